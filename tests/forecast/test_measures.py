"""tuners/forecast/measures.py: the horizon, backtest windows that never see their future, MASE and sMAPE
against hand computations, and the naive baselines (issue 19's ground)."""

from __future__ import annotations

import numpy as np
import pytest

from advisor.errors import InputError
from tuners.forecast.measures import (default_horizon, final_window, least_history, mase, seasonal_naive, smape,
                                windows)


def test_mase_is_m4s_against_a_hand_computation():
    history = np.array([1.0, 3.0, 2.0, 4.0, 3.0, 5.0])
    # season 1: |3-1|, |2-3|, |4-2|, |3-4|, |5-3| = 2, 1, 2, 1, 2 -> 1.6; errors |6-5|, |4-5| -> 1
    assert mase([6.0, 4.0], [5.0, 5.0], history) == pytest.approx(1 / 1.6)
    # season 2: |2-1|, |4-3|, |3-2|, |5-4| -> 1
    assert mase([6.0, 4.0], [5.0, 5.0], history, season_length=2) == pytest.approx(1.0)


def test_smape_in_percent_with_both_zero_exact():
    assert smape([100.0, 0.0], [110.0, 0.0]) == pytest.approx((200 * 10 / 210 + 0.0) / 2)


def test_seasonal_naive_repeats_the_last_season_and_naive_the_last_value():
    history = np.arange(1.0, 7.0)  # 1..6
    assert seasonal_naive(history, 5, season_length=3).tolist() == [4.0, 5.0, 6.0, 4.0, 5.0]
    assert seasonal_naive(history, 3).tolist() == [6.0, 6.0, 6.0]


def test_backtest_windows_never_see_their_future():
    """Two series of 40 and 55 steps, horizon 4, season 4: three windows of 4 steps per series, oldest
    first, each after at least least_history steps, each ending where the next begins, the last where
    the test window begins: a model fitted on the steps before a window's start sees none of it, nor
    any later window, nor the test window."""
    lengths, horizon = [40, 55], 4
    found, test = windows(lengths, horizon, season_length=4, most=3), final_window(lengths, horizon)
    assert len(found) == 3 and test == [(36, 40), (51, 55)]
    for series, n in enumerate(lengths):
        spans = [window[series] for window in found] + [test[series]]
        assert all(end - start == horizon for start, end in spans)
        assert all(spans[i][1] == spans[i + 1][0] for i in range(len(spans) - 1))  # no overlap, no gap
        assert spans[0][0] >= least_history(4, horizon) and spans[-1][1] == n
    assert len(windows(lengths, horizon, season_length=4)) == 5  # the default, where the shortest holds them
    assert len(windows([24], horizon, season_length=4)) == 3  # (24 - 8) // 4 - 1: as many as fit

def test_a_horizon_longer_than_the_series_or_a_constant_series_gets_one_clear_line():
    with pytest.raises(InputError, match=r"a horizon of 30 steps needs series of at least .*Give a shorter --horizon"):
        windows([40], 30, season_length=1)
    with pytest.raises(InputError, match="constant over its history"):
        mase([5.0], [5.0], np.full(10, 5.0))


def test_the_default_horizon_is_one_season_else_a_tenth_of_the_shortest_series():
    assert default_horizon(12, 144) == 12
    assert default_horizon(1, 100) == 10
    assert default_horizon(1, 5) == 1
