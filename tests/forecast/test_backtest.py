"""tuners/forecast/backtest.py and the forecasters: each window's forecaster sees only the steps
before the window, and the forecasters forecast real series better than the naive baselines."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from advisor.loading import load
from advisor.profiling import profile
from tuners.forecast.backtest import backtest, score
from tuners.forecast.measures import final_window, windows
from tuners.forecast.models import FORECASTERS
from tuners.forecast.panel import panel_of


@pytest.fixture(scope="module")
def co2_panel(co2_monthly):
    dataset = load(co2_monthly, "value")
    return panel_of(dataset.frame, "value", profile(dataset).forecast)


def test_the_panel_is_sorted_by_time_whatever_the_row_order(co2_panel):
    stamps = co2_panel.stamps[0]
    assert stamps.is_monotonic_increasing and len(stamps) == 526 and co2_panel.season_length == 12
    assert co2_panel.values[0][0] == pytest.approx(316.1, abs=0.5)  # March 1958, the first month measured


def _with_covariate(panel, covariate: np.ndarray):
    return dataclasses.replace(panel, covariates=(covariate[:, None],), covariate_names=("other",))


def test_no_window_ever_sees_its_future(co2_panel):
    """A forecaster that records what it is handed: each history (the target's and the covariates')
    must be exactly the steps before its window, and the phases it gets must stop at the window's end."""
    seen = []

    def spy(values, phases, future_phases, horizon, season_length, config, seed, covariates=None):
        seen.append(([len(v) for v in values], [v.copy() for v in values], [len(p) for p in future_phases],
                     covariates))
        return [np.full(horizon, v[-1]) for v in values]

    spying = dataclasses.replace(FORECASTERS["naive"], forecast=spy)
    panel = _with_covariate(co2_panel, np.arange(526.0))
    spans = windows(panel.lengths, 12, 12)
    backtest(spying, {}, panel, spans, seed=0)
    score(spying, {}, panel, final_window(panel.lengths, 12), seed=0)
    assert len(seen) == len(spans) + 1 == 6
    for (lengths, histories, ahead, covariates), window in zip(seen, [*spans, final_window(panel.lengths, 12)]):
        start, end = window[0]
        assert lengths == [start] and ahead == [end - start] == [12]
        np.testing.assert_array_equal(histories[0], panel.values[0][:start])
        np.testing.assert_array_equal(covariates[0][:, 0], np.arange(float(start)))  # its steps before the window
    assert [w[0][0] for w in spans] == [454, 466, 478, 490, 502]  # five windows of 12 before the last 12 of 526


@pytest.mark.parametrize("covariates", [False, True])
def test_a_history_altered_after_the_window_start_changes_no_backtest_score(co2_panel, covariates):
    """Scramble everything after the window's start (the target after its end, a covariate from its
    first step): the window's score must not move."""
    panel = _with_covariate(co2_panel, np.sin(np.arange(526.0)))
    spans = windows(panel.lengths, 12, 12)
    linear = FORECASTERS["linear"]
    config = {**linear.space(12, spans[0][0][0], 12)[0], "covariates": covariates}
    honest = backtest(linear, config, panel, spans[:1], seed=0)["score"]
    start, end = spans[0][0]
    values, other = panel.values[0].copy(), panel.covariates[0].copy()
    values[end:] = values[end:][::-1] * 3.0
    other[start:] = 1e6
    scrambled = dataclasses.replace(panel, values=(values,), covariates=(other,))
    assert backtest(linear, config, scrambled, spans[:1], seed=0)["score"] == pytest.approx(honest, rel=1e-12)


@pytest.mark.parametrize("name", ["theta", "ets", "arima", "linear", "boosting", "mlp"])
def test_each_forecaster_beats_seasonal_naive_on_co2(co2_panel, name):
    """CO2 has a steady trend under its season: every model family should clear the seasonal naive
    forecast, which repeats last year and misses the year's rise."""
    spans = windows(co2_panel.lengths, 12, 12)
    forecaster = FORECASTERS[name]
    config = forecaster.space(12, spans[0][0][0], 12)[0]
    found = backtest(forecaster, config, co2_panel, spans, seed=0)
    yardstick = backtest(FORECASTERS["seasonal_naive"], {}, co2_panel, spans, seed=0)
    assert found["score"] < 0.8 * yardstick["score"], (found, yardstick)
    assert len(found["window_scores"]) == 5 and found["sem"] > 0


def test_the_combination_is_the_mean_of_its_members_forecasts(co2_panel):
    spans = final_window(co2_panel.lengths, 12)
    members = [{"family": "theta", "config": {}}, {"family": "linear", "config": {"lags": 24, "alpha": 1.0}}]
    alone = [score(FORECASTERS[m["family"]], m["config"], co2_panel, spans, seed=0).forecasts[0] for m in members]
    combined = score(FORECASTERS["combination"], {"members": members}, co2_panel, spans, seed=0).forecasts[0]
    np.testing.assert_allclose(combined, (alone[0] + alone[1]) / 2)


def test_a_steps_phase_is_its_place_in_the_season_from_its_time_stamp():
    """Half-hours count through the day, months through the year, quarters through theirs, and a
    future stamp gets the phase its season gives it, whichever step a series starts on."""
    import pandas as pd

    from tuners.forecast.panel import phases

    half_hours = pd.Series(pd.date_range("2000-06-05 23:00", periods=4, freq="30min"))
    assert phases(half_hours, 48, "30min").tolist() == [46, 47, 0, 1]
    months = pd.Series(pd.date_range("1999-11-01", periods=4, freq="MS"))
    assert phases(months, 12, "MS").tolist() == [10, 11, 0, 1]
    quarters = pd.Series(pd.to_datetime(["1965-01-01", "1965-04-01", "1965-07-01", "1965-10-01", "1966-01-01"]))
    assert phases(quarters, 4, "QS-OCT").tolist() == [0, 1, 2, 3, 0]
    assert phases(pd.Series([1700, 1701]), 1, "step").tolist() == [0, 0]


def test_drift_extends_the_mean_step_by_hand():
    found = FORECASTERS["drift"].forecast([np.array([1.0, 2.0, 4.0, 7.0])], [], [], 3, 1, {}, 0)[0]
    np.testing.assert_allclose(found, [9.0, 11.0, 13.0])  # 7 + k * (7 - 1) / 3


def test_interval_widths_are_quantiles_of_the_pooled_steps_and_never_shrink():
    from tuners.forecast.intervals import bounds, widths

    errors = np.array([[1.0, 0.0, 5.0], [3.0, 0.0, 5.0]])  # two windows, three steps ahead
    found = widths(errors)
    # step 1: quantile of {1, 3}; step 2: of {1, 3, 0, 0} (lower, so held at step 1's); step 3: of all six
    assert found["80"] == [pytest.approx(np.quantile([1, 3], 0.8)), pytest.approx(np.quantile([1, 3], 0.8)),
                           pytest.approx(np.quantile([1, 3, 0, 0, 5, 5], 0.8))]
    assert all(w95 >= w80 for w80, w95 in zip(found["80"], found["95"]))
    around = bounds(np.array([10.0, 10.0, 10.0]), 2.0, found)
    np.testing.assert_allclose(around["upper_80"] - 10.0, 2.0 * np.array(found["80"]))
