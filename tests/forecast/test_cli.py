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
    assert any("leaves 1 other column(s) out: 'rate' (constant)" in n for n in notes), notes


def test_covariates_known_in_the_past_are_read_where_the_backtest_finds_they_help(co2_leading, run_cli, tmp_path):
    """A leading indicator (CO2 a year ahead, known a year ahead) is read up to each forecast's start; the ridge
    with it backtests far lower than without, is chosen, and `predict` needs the indicator in the history."""
    done = run_cli("recommend", co2_leading, "--target", "value", "--budget", "30s", "--json", "--out", tmp_path / "r")
    assert done.exit_code == 0, done.output
    result = json.loads(done.output.strip().splitlines()[-1])
    assert result["forecast"]["covariates"] == ["lead"] and result["forecast"]["covariates_used"] is True
    assert any("1 covariate column(s) ('lead')" in n for n in result["notes"]), result["notes"]
    assert any("1 other column(s) out: 'site' (not numeric)" in n for n in result["notes"]), result["notes"]
    linear = [t for t in result["trials"] if t["family"] == "linear" and t["score"] is not None]
    best = {flag: min(t["score"] for t in linear if bool(t["config"].get("covariates")) == flag) for flag in (0, 1)}
    assert best[1] < 0.5 * best[0], best
    assert result["best"]["config"]["covariates"] is True
    assert result["best"]["test_score"] < 0.25 * result["baselines"]["seasonal_naive"], result["best"]
    assert "Covariates: lead." in (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    history = pd.read_csv(co2_leading)
    history.drop(columns=["lead"]).to_csv(tmp_path / "without.csv", index=False)
    refused = run_cli("predict", tmp_path / "r", tmp_path / "without.csv", "--out", tmp_path / "no.csv")
    assert refused.exit_code == 2 and "lacks the column(s) 'lead'" in refused.output, refused.output
    assert not (tmp_path / "no.csv").exists()
    done = run_cli("predict", tmp_path / "r", co2_leading, "--out", tmp_path / "next.csv")
    assert done.exit_code == 0, done.output
    forecast = pd.read_csv(tmp_path / "next.csv")
    assert forecast["month"].str[:7].tolist() == [f"2001-{m:02d}" for m in range(1, 13)]
    actual = pd.read_csv(co2_leading)["lead"].iloc[-12:].to_numpy()  # the indicator held 2001's values
    assert abs(forecast["prediction"].to_numpy() - actual).mean() < 0.5, forecast


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


def test_forecaster_names_one_forecaster_such_as_arima_which_runs_only_when_asked(nile_yearly, examples_dir, run_cli,
                                                                                   tmp_path):
    done = run_cli("recommend", nile_yearly, "--target", "volume", "--budget", "20s", "--json", "--out", tmp_path / "a")
    assert done.exit_code == 0, done.output
    assert "arima" not in {t["family"] for t in json.loads(done.output.strip().splitlines()[-1])["trials"]}
    done = run_cli("recommend", nile_yearly, "--target", "volume", "--forecaster", "arima", "--budget", "20s", "--json",
                   "--out", tmp_path / "b")
    assert done.exit_code == 0, done.output
    result = json.loads(done.output.strip().splitlines()[-1])
    assert (result["family"], result["chosen_by"]) == ("arima", "override")
    assert {t["family"] for t in result["trials"]} == {"naive", "seasonal_naive", "arima"}
    assert result["best"]["test_score"] < result["baselines"]["naive"]  # 0.85 against 0.97 on 1961-1970
    named = _one_line_error(run_cli("recommend", nile_yearly, "--target", "volume", "--forecaster", "combination",
                                    "--out", tmp_path / "c"))
    assert "'combination' is no forecaster here: name one of drift, theta, ets, arima, linear" in named
    table = _one_line_error(run_cli("recommend", examples_dir / "wine.csv", "--forecaster", "ets",
                                    "--out", tmp_path / "d"))
    assert "--forecaster applies to a forecast; this data reads as multiclass" in table


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
