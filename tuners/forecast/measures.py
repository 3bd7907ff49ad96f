"""Forecasting's measures and its validation by time (issue 19's ground, for the forecast task's
entry): the horizon, the backtest windows before the test window, MASE and sMAPE as the M4
competition defines them (Makridakis, Spiliotis and Assimakopoulos, 2020), and the naive and
seasonal naive forecasts every forecasting run reports beside its model.

Positions are steps within one series, oldest first. The test window is the last `horizon` steps
of every series; the backtest windows step back from it by `horizon`, so they neither overlap
nor touch the test window, and whatever is fitted on a window sees only the steps before it.
"""

from __future__ import annotations

import numpy as np

from advisor.errors import InputError

# Backtest windows where the series are long enough: over 12 real series the stage's choice on five
# windows left the test MASE at 0.595 of seasonal naive's (geometric mean) and below it on 11 series; on
# three, 0.691 and 7 (bench/results/forecast_selection_w5.md against _w3.md).
WINDOWS = 5
HORIZON_SHARE = 0.1  # of the shortest series: the horizon when there is no season


def default_horizon(season_length: int, shortest: int) -> int:
    """One season, else 10% of the shortest series; at least 1 step."""
    return max(1, season_length if season_length > 1 else int(HORIZON_SHARE * shortest))


def least_history(season_length: int, horizon: int) -> int:
    """Steps a window's past must hold: two seasons (a seasonal difference to scale by), and two horizons."""
    return max(2 * season_length, 2 * horizon, 2)


def windows(lengths: list[int], horizon: int, season_length: int, most: int = WINDOWS) -> list[list[tuple[int, int]]]:
    """Backtest windows, oldest first, as one (start, end) span per series, each `horizon` steps and
    ending where the next begins (the last where the test window begins); as many as `most` for
    which every series keeps least_history steps before the window's start. Raises InputError when
    a series cannot hold even the test window after its least history."""
    need = least_history(season_length, horizon)
    shortest = min(lengths)
    if shortest < need + horizon:
        raise InputError(f"a horizon of {horizon} steps needs series of at least {need + horizon} steps ({need} of "
                         f"history before it); the shortest series has {shortest}. Give a shorter --horizon.")
    count = min(most, (shortest - need) // horizon - 1)
    return [[(n - horizon * (k + 1), n - horizon * k) for n in lengths] for k in range(count, 0, -1)]


def final_window(lengths: list[int], horizon: int) -> list[tuple[int, int]]:
    """The test window: the last `horizon` steps of every series."""
    return [(n - horizon, n) for n in lengths]


def seasonal_naive(history: np.ndarray, horizon: int, season_length: int = 1) -> np.ndarray:
    """Each step forecast as the same step one season before the end; season 1 is the naive forecast."""
    m = max(1, season_length) if len(history) >= season_length else 1
    last_season = np.asarray(history, dtype=float)[-m:]
    return np.resize(last_season, horizon)


def mase_scale(history: np.ndarray, season_length: int = 1) -> float:
    """The in-sample mean absolute seasonal difference (M4's MASE denominator)."""
    values = np.asarray(history, dtype=float)
    m = season_length if len(values) > season_length else 1
    scale = float(np.mean(np.abs(values[m:] - values[:-m]))) if len(values) > m else 0.0
    if not np.isfinite(scale) or scale == 0.0:
        raise InputError("a series is constant over its history: MASE has nothing to scale by, and every forecast "
                         "of it is its last value. Drop the series or forecast it as a constant.")
    return scale


def mase(actual: np.ndarray, predicted: np.ndarray, history: np.ndarray, season_length: int = 1) -> float:
    """Mean absolute error over the horizon over the history's mean absolute seasonal difference;
    1 is as good as the seasonal naive forecast within the history, lower is better."""
    errors = np.abs(np.asarray(actual, dtype=float) - np.asarray(predicted, dtype=float))
    return float(np.mean(errors) / mase_scale(history, season_length))


def smape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Symmetric mean absolute percentage error, in percent (M4: 200 |y - f| / (|y| + |f|)); steps
    where both are 0 count as exact."""
    actual, predicted = np.asarray(actual, dtype=float), np.asarray(predicted, dtype=float)
    total = np.abs(actual) + np.abs(predicted)
    ratio = np.divide(2.0 * np.abs(actual - predicted), total, out=np.zeros_like(total), where=total > 0)
    return float(100.0 * np.mean(ratio))
