"""Forecasting end to end through the CLI: detected with no flag, tested on the last H steps of every
series beside the baselines, predicted past each series' end, and bad input refused in one line."""

from __future__ import annotations

import json

import pandas as pd
import pytest


@pytest.fixture(scope="module")
def co2_run(co2_monthly, tmp_path_factory, cli):
    out = tmp_path_factory.mktemp("runs") / "co2"
    done = cli("recommend", co2_monthly, "--target", "value", "--horizon", "12", "--budget", "20s", "--out", out,
               "--json")
    assert done.exit_code == 0, done.output
    return json.loads(done.output.strip().splitlines()[-1]), out


def test_a_date_value_csv_is_forecast_with_no_other_flag(co2_run):
    result, out = co2_run
    assert result["profile"]["task"] == "forecast" and result["chosen_by"] == "backtest"
    forecast = result["forecast"]
    assert {"horizon", "season_length", "frequency", "time_column", "series_column", "series", "windows"} <= set(forecast)
    assert (forecast["horizon"], forecast["season_length"], forecast["frequency"]) == (12, 12, "MS")
    assert (forecast["time_column"], forecast["series_column"], forecast["series"]) == ("month", None, 1)
    assert [w["start"][:7] for w in forecast["windows"]] == ["1996-01", "1997-01", "1998-01", "1999-01", "2000-01"]
    best = result["best"]
    assert best["metric"] == "mase" and best["lower_is_better"] is True
    assert set(result["baselines"]) == {"naive", "seasonal_naive"}
    # The chosen model beats both baselines on the test year (2001), as every family does on this series.
    assert best["test_score"] < 0.6 * min(result["baselines"].values()), (best, result["baselines"])
    assert result["family"] in forecast["family_scores"] and result["trials"]
    assert any("Read as a forecast: 'month' steps regularly (MS); --task regression" in n for n in result["notes"])


def test_the_test_window_is_the_last_h_steps_and_its_forecasts_are_written(co2_run):
    result, out = co2_run
    written = pd.read_csv(out / "test_forecast.csv")
    assert list(written.columns) == ["series", "time", "actual", "prediction", "naive", "seasonal_naive"]
    assert written["time"].str[:7].tolist() == [f"2001-{m:02d}" for m in range(1, 13)]
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "How the forecaster was chosen" in report and "seasonal naive" in report and "<svg" in report


def test_predict_continues_the_series_past_its_end(co2_run, co2_monthly, run_cli, tmp_path):
    result, out = co2_run
    done = run_cli("predict", out, co2_monthly, "--out", tmp_path / "next.csv")
    assert done.exit_code == 0, done.output
    forecast = pd.read_csv(tmp_path / "next.csv")
    assert list(forecast.columns) == ["series", "month", "prediction", "lower_80", "upper_80", "lower_95", "upper_95"]
    assert (forecast["lower_95"] <= forecast["lower_80"]).all() and (forecast["lower_80"] < forecast["prediction"]).all()
    assert (forecast["prediction"] < forecast["upper_80"]).all() and (forecast["upper_80"] <= forecast["upper_95"]).all()
    assert forecast["month"].str[:7].tolist() == [f"2002-{m:02d}" for m in range(1, 13)]
    last_year = pd.read_csv(co2_monthly).sort_values("month")["value"].iloc[-12:].to_numpy()
    rise = forecast["prediction"].to_numpy() - last_year  # CO2 rose 1-2 ppm a year around 2000
    assert 0.0 < rise.mean() < 4.0, rise


def test_a_panel_is_forecast_series_by_series(macro_panel, run_cli, tmp_path):
    done = run_cli("recommend", macro_panel, "--target", "value", "--budget", "15s", "--json", "--out", tmp_path / "r")
    assert done.exit_code == 0, done.output
    result = json.loads(done.output.strip().splitlines()[-1])
    assert (result["forecast"]["series_column"], result["forecast"]["series"]) == ("series", 4)
    assert result["forecast"]["horizon"] == 20  # no season (seasonally adjusted): 10% of 203 quarters
    done = run_cli("predict", tmp_path / "r", macro_panel, "--out", tmp_path / "next.csv")
    assert done.exit_code == 0, done.output
    forecast = pd.read_csv(tmp_path / "next.csv")
    assert forecast.groupby("series").size().to_dict() == {s: 20 for s in ("m1", "realcons", "realgdp", "realinv")}
    assert forecast["quarter"].iloc[0].startswith("2009-10")
    with_covariate = pd.read_csv(macro_panel).assign(rate=1.0)
    with_covariate.to_csv(tmp_path / "covariate.csv", index=False)
    done = run_cli("recommend", tmp_path / "covariate.csv", "--target", "value", "--no-tune", "--json",
                   "--out", tmp_path / "n")
    notes = json.loads(done.output.strip().splitlines()[-1])["notes"]
    assert any("1 other column(s) ('rate') are not read" in n for n in notes), notes


def test_family_rnn_runs_the_lstm_gru_duel_and_records_it(co2_monthly, run_cli, tmp_path):
    done = run_cli("recommend", co2_monthly, "--target", "value", "--family", "rnn", "--budget", "40s", "--json",
                   "--out", tmp_path / "rnn")
    assert done.exit_code == 0, done.output
    result = json.loads(done.output.strip().splitlines()[-1])
    duel = result["duel"]
    assert result["family"] == "rnn" and result["chosen_by"] == "override"
    assert set(duel["scores"]) == {"lstm", "gru"} and duel["winner"] in ("lstm", "gru")
    assert duel["subset_share"] == 0.5 and duel["windows"] == 2 and duel["winner"] in duel["reason"]
    duelled = [t for t in result["trials"] if t["trial_id"] in duel["trials"]]
    assert [t["config"]["cell"] for t in duelled] == ["lstm", "gru"] and all(t["config"]["subset"] for t in duelled)
    assert {t["family"] for t in result["trials"]} <= {"naive", "seasonal_naive", "rnn"}
    assert result["best"]["test_score"] < result["baselines"]["seasonal_naive"]
    assert "duel" in (tmp_path / "rnn" / "report.html").read_text(encoding="utf-8")


def _one_line_error(done) -> str:
    assert done.exit_code == 2, done.output
    errors = [line for line in done.output.splitlines() if line.startswith("advisor: error:")]
    assert len(errors) == 1 and done.output.rstrip().endswith(errors[0]), done.output
    assert "Traceback" not in done.output
    return errors[0]


def test_bad_series_get_one_clear_line(co2_monthly, run_cli, tmp_path):
    series = pd.read_csv(co2_monthly).sort_values("month")
    constant = series.assign(value=400.0)
    constant.to_csv(tmp_path / "constant.csv", index=False)
    assert "constant" in _one_line_error(run_cli("recommend", tmp_path / "constant.csv", "--target", "value",
                                                 "--task", "forecast", "--out", tmp_path / "a"))
    assert "shorter --horizon" in _one_line_error(run_cli("recommend", co2_monthly, "--target", "value",
                                                          "--horizon", "600", "--out", tmp_path / "b"))
    days = [f"2026-01-{d:02d}" for d in range(1, 7)]
    single = pd.DataFrame({"shop": ["a"] * 6 + ["b"] * 6 + ["c"], "day": days * 2 + days[:1],
                           "sales": [3, 5, 4, 6, 8, 7] * 2 + [1]})  # shop c: one row
    single.to_csv(tmp_path / "single.csv", index=False)
    line = _one_line_error(run_cli("recommend", tmp_path / "single.csv", "--target", "sales", "--task", "forecast",
                                   "--series", "shop", "--out", tmp_path / "c"))
    assert "at least 3 time steps; the shortest here has 1" in line
    gappy = series.drop(index=series.index[[100, 101]])  # two months missing
    gappy.to_csv(tmp_path / "gappy.csv", index=False)
    line = _one_line_error(run_cli("recommend", tmp_path / "gappy.csv", "--target", "value", "--time", "month",
                                   "--out", tmp_path / "d"))
    assert "steps irregularly" in line and "where the MS series steps to" in line, line
    assert not (tmp_path / "a" / "result.json").exists()


def test_a_non_time_table_is_untouched_and_task_overrides_detection(examples_dir, co2_monthly, run_cli, tmp_path):
    done = run_cli("recommend", examples_dir / "wine.csv", "--no-tune", "--json", "--out", tmp_path / "w")
    assert json.loads(done.output.strip().splitlines()[-1])["profile"]["task"] == "multiclass"
    done = run_cli("recommend", co2_monthly, "--target", "value", "--task", "regression", "--no-tune", "--json",
                   "--out", tmp_path / "r")
    assert done.exit_code == 0, done.output
    assert json.loads(done.output.strip().splitlines()[-1])["profile"]["task"] == "regression"
