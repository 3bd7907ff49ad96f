"""Prediction intervals for every forecaster, from its own backtest: the absolute errors of the chosen
configuration on the backtest windows, each in its series' scale (the mean absolute seasonal
difference, MASE's), give the interval's half-width at each step ahead as their quantile over that
step and the steps before it (so widths never shrink with the horizon, and the early steps pool
the few windows there are). Split-conformal in spirit (Vovk et al.; Stankeviciute et al. 2021 for
series): no model's own error model is assumed, so the ridge, the trees and the nets get intervals
the same way as exponential smoothing. With few windows the coverage is approximate."""

from __future__ import annotations

import numpy as np

LEVELS = (80, 95)


def widths(errors: np.ndarray) -> dict[str, list[float]]:
    """{"80": [half-width per step], "95": [...]} from scaled absolute errors shaped (samples, horizon)."""
    errors = np.asarray(errors, dtype=float)
    found = {}
    for level in LEVELS:
        pooled = [np.quantile(errors[:, :step + 1], level / 100) for step in range(errors.shape[1])]
        found[str(level)] = [round(float(w), 6) for w in np.maximum.accumulate(pooled)]
    return found


def bounds(forecast: np.ndarray, scale: float, found: dict[str, list[float]]) -> dict[str, np.ndarray]:
    """{"lower_80", "upper_80", "lower_95", "upper_95"} around a forecast, in its series' units."""
    out = {}
    for level, half in found.items():
        span = scale * np.asarray(half[:len(forecast)], dtype=float)
        out[f"lower_{level}"], out[f"upper_{level}"] = forecast - span, forecast + span
    return out
