"""Regression on lags: one global model over every series of the panel, trained on windows of each
series' own past (`lags` steps in, the next steps out), and the season's phase as one-hot dummies.

Each window is taken relative to its last value and divided by its series' scale (the mean
absolute seasonal difference, MASE's): the model learns changes in units of the series' usual
step, so series of different levels share one model and a trend is a run of positive changes,
which trees (that cannot extrapolate a level) can still follow.

Covariates (a configuration's "covariates": true, direct models only) join as each covariate's
values over the same `lags` steps, standardised by its series' history: values known up to a
forecast's origin, never after it, so the recursive model, whose later steps would need the
covariates' future, does not read them.

Multi-step: `direct` fits all `horizon` steps at once (one multi-output model: ridge does this in
closed form, no error fed back); `recursive` fits the next step and feeds each forecast back as
the newest lag (one model of one output, the cheaper way for boosting's trees).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from advisor.errors import InputError
from tuners.forecast.measures import mase_scale

MAX_SAMPLES = 20_000  # windows a fit trains on at most: the newest of each series kept first
MIN_WINDOWS = 8  # windows per series a lag count needs, else it is too long for the history


def scale_of(values: np.ndarray, season_length: int) -> float:
    """MASE's scale of a history (measures.mase_scale), or 1 where it has none (a constant stretch)."""
    try:
        return mase_scale(values, season_length)
    except InputError:
        return 1.0


def _dummies(phase: np.ndarray, season_length: int) -> np.ndarray:
    if season_length <= 1:
        return np.zeros((len(phase), 0))
    return np.eye(season_length)[phase]


def standardised(covariates: np.ndarray) -> np.ndarray:
    """Each covariate (a column) less its mean over the history, over its standard deviation (1 where none)."""
    spread = covariates.std(axis=0)
    return (covariates - covariates.mean(axis=0)) / np.where(spread > 0, spread, 1.0)


def _covariate_windows(covariates: np.ndarray | None, lags: int, ahead: int, kept: int) -> np.ndarray:
    """The last `kept` windows' covariate features: each covariate's `lags` input steps, standardised."""
    if covariates is None or covariates.shape[1] == 0:
        return np.zeros((kept, 0))
    windows = sliding_window_view(standardised(covariates), lags + ahead, axis=0)[-kept:]  # (kept, k, lags + ahead)
    return windows[:, :, :lags].reshape(kept, -1)


def training_windows(values: list[np.ndarray], phases: list[np.ndarray], lags: int, ahead: int,
                     season_length: int, covariates: list[np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(X, Y): every window of `lags` steps followed by `ahead` steps, in each series' scale (and, with
    `covariates`, each covariate's values over the window's `lags` input steps)."""
    xs, ys = [], []
    for k, (series, phase) in enumerate(zip(values, phases)):
        if len(series) < lags + ahead:
            continue
        windows = sliding_window_view(series, lags + ahead)[-MAX_SAMPLES:]
        first = len(series) - lags - ahead + 1 - len(windows)  # the first kept window's start
        level, scale = windows[:, lags - 1:lags], scale_of(series, season_length)
        origin = phase[first + lags:first + lags + len(windows)]
        extra = _covariate_windows(covariates[k] if covariates else None, lags, ahead, len(windows))
        xs.append(np.hstack([(windows[:, :lags] - level) / scale, _dummies(origin, season_length), extra]))
        ys.append((windows[:, lags:] - level) / scale)
    x, y = np.vstack(xs), np.vstack(ys)
    if len(x) > MAX_SAMPLES:
        keep = np.random.default_rng(0).choice(len(x), MAX_SAMPLES, replace=False)
        x, y = x[keep], y[keep]
    return x, y


def _inputs(series: np.ndarray, phase: int, lags: int, season_length: int,
            covariates: np.ndarray | None = None) -> tuple[np.ndarray, float, float]:
    level, scale = series[-1], scale_of(series, season_length)
    extra = [] if covariates is None or covariates.shape[1] == 0 else [standardised(covariates)[-lags:].T.reshape(-1)]
    row = np.concatenate([(series[-lags:] - level) / scale, _dummies(np.array([phase]), season_length)[0], *extra])
    return row, level, scale


def forecast_direct(model, values: list[np.ndarray], future_phases: list[np.ndarray], lags: int, horizon: int,
                    season_length: int, covariates: list[np.ndarray] | None = None) -> list[np.ndarray]:
    rows = [_inputs(series, phase[0], lags, season_length, covariates[k] if covariates else None)
            for k, (series, phase) in enumerate(zip(values, future_phases))]
    out = np.asarray(model.predict(np.vstack([r[0] for r in rows]))).reshape(len(rows), horizon)
    return [level + scale * change for (_, level, scale), change in zip(rows, out)]


def forecast_recursive(model, values: list[np.ndarray], future_phases: list[np.ndarray], lags: int, horizon: int,
                       season_length: int) -> list[np.ndarray]:
    grown = [np.asarray(series, dtype=float) for series in values]
    for step in range(horizon):
        rows = [_inputs(series, phase[step], lags, season_length) for series, phase in zip(grown, future_phases)]
        change = np.asarray(model.predict(np.vstack([r[0] for r in rows]))).reshape(-1)
        grown = [np.append(series, level + scale * c) for series, (_, level, scale), c in zip(grown, rows, change)]
    return [series[-horizon:] for series in grown]


def lag_forecaster(make: Callable[[dict[str, Any], int], Any], direct: bool):
    """A forecaster's function from a model maker: fit on the histories' windows, forecast each series."""
    def forecast(values, phases, future_phases, horizon, season_length, config, seed, covariates=None):
        lags = int(config["lags"])
        read = covariates if direct and config.get("covariates") else None
        x, y = training_windows(values, phases, lags, horizon if direct else 1, season_length, read)
        model = make(config, seed)
        model.fit(x, y if direct else y[:, 0])
        if direct:
            return forecast_direct(model, values, future_phases, lags, horizon, season_length, read)
        return forecast_recursive(model, values, future_phases, lags, horizon, season_length)
    return forecast


def lag_choices(season_length: int, shortest: int, ahead: int) -> list[int]:
    """Lag counts to search: one to three seasons, else 4 to 32 steps, where the shortest history
    still gives MIN_WINDOWS windows."""
    wanted = [season_length * k for k in (1, 2, 3)] if season_length > 1 else [4, 8, 16, 32]
    fit = [p for p in wanted if p + ahead + MIN_WINDOWS <= shortest]
    return fit or [p for p in (2, 3) if p + ahead + 2 <= shortest]
