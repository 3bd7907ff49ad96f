"""Rolling-origin evaluation: a forecaster fitted on each series' steps before a window, scored on
the window by MASE (scaled by that same past, M4's definition) and sMAPE. The forecaster is handed
the past only (`cut`): nothing it sees comes from the window or after it."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from tuners.forecast.measures import mase, mase_scale, smape
from tuners.forecast.models import Forecaster
from tuners.forecast.panel import Panel, phases


@dataclasses.dataclass(frozen=True)
class Scored:
    mase: float  # mean over the series
    smape: float
    per_series: list[float]  # each series' MASE
    forecasts: list[np.ndarray]
    seconds: float
    errors: np.ndarray  # (series, horizon): absolute errors in each series' scale (MASE's denominator)


def cut(panel: Panel, spans: list[tuple[int, int]]):
    """Each series' past before its span, the past's phases, the span's phases (from time stamps only),
    and its covariates' past (None without covariates)."""
    past, past_phases, ahead = [], [], []
    for values, stamps, (start, end) in zip(panel.values, panel.stamps, spans):
        every = phases(stamps.iloc[:end], panel.season_length, panel.frequency)
        past.append(values[:start].copy())
        past_phases.append(every[:start])
        ahead.append(every[start:end])
    covariates = [c[:start].copy() for c, (start, _) in zip(panel.covariates, spans)] if panel.covariates else None
    return past, past_phases, ahead, covariates


def score(forecaster: Forecaster, config: dict[str, Any], panel: Panel, spans: list[tuple[int, int]],
          seed: int) -> Scored:
    """The forecaster fitted on the steps before `spans` (one (start, end) per series) and scored on them."""
    clock = time.perf_counter()
    horizon = spans[0][1] - spans[0][0]
    past, past_phases, ahead, covariates = cut(panel, spans)
    forecasts = forecaster.forecast(past, past_phases, ahead, horizon, panel.season_length, config, seed,
                                    covariates=covariates)
    forecasts = [_finite(f, p) for f, p in zip(forecasts, past)]
    actual = [values[start:end] for values, (start, end) in zip(panel.values, spans)]
    per_series = [mase(a, f, p, panel.season_length) for a, f, p in zip(actual, forecasts, past)]
    smapes = [smape(a, f) for a, f in zip(actual, forecasts)]
    errors = np.vstack([np.abs(a - f) / mase_scale(p, panel.season_length)
                        for a, f, p in zip(actual, forecasts, past)])
    return Scored(float(np.mean(per_series)), float(np.mean(smapes)), per_series, forecasts,
                  time.perf_counter() - clock, errors)


def _finite(forecast: np.ndarray, past: np.ndarray) -> np.ndarray:
    """A forecast with its non-finite steps replaced by the last observed value (a diverged fit)."""
    forecast = np.asarray(forecast, dtype=float)
    return np.where(np.isfinite(forecast), forecast, past[-1])


def backtest(forecaster: Forecaster, config: dict[str, Any], panel: Panel, windows: list[list[tuple[int, int]]],
             seed: int) -> dict[str, Any]:
    """Scores on every backtest window: {"score" (the mean MASE), "sem", "window_scores", "smape", "seconds",
    "_errors" (every window's scaled absolute errors, series x horizon, stacked)}."""
    scored = [score(forecaster, config, panel, spans, seed) for spans in windows]
    every = np.concatenate([s.per_series for s in scored])
    return {"score": float(np.mean([s.mase for s in scored])),
            "sem": float(np.std(every, ddof=1) / np.sqrt(len(every))) if len(every) > 1 else 0.0,
            "window_scores": [round(s.mase, 6) for s in scored],
            "smape": float(np.mean([s.smape for s in scored])),
            "seconds": float(sum(s.seconds for s in scored)),
            "_errors": np.vstack([s.errors for s in scored])}  # for the intervals; not kept in result.json
