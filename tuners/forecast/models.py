"""The forecasters, by name: a new one is a function and one entry in FORECASTERS.

Every forecaster has one signature: the histories (one array per series, oldest first), their
steps' season phases and the phases of the `horizon` steps to forecast, the season length, one
configuration from its space, the seed, and (keyword `covariates`) each series' covariates over its
history (steps x covariates) or None; it returns one array of `horizon` forecasts per series.
It sees nothing after a history's end: the backtest (tuners/forecast/backtest.py) hands it only
the steps before each window.

The choice of families follows the evidence the issue cites: the M4 competition (Makridakis,
Spiliotis and Assimakopoulos, 2020), where statistical methods (exponential smoothing, Theta and
their combinations) beat most machine-learning entries at a fraction of the cost, and
shared/DATASETS.md's survey, where a linear model on lags beat boosting and MLPs on all but one
bundled series; seed 002's 'Time? LSTM' is the recurrent net (tuners/forecast/recurrent.py), backtested
when the rules rank it or --family rnn asks. ARIMA runs only when asked (--forecaster arima): beside
the others it lowered no series' chosen test MASE and left the stage's choice at 0.604 of seasonal
naive's (geometric mean over 12 series) against 0.595 without it, its seasonal fits tripling the
run's time (bench/results/forecast_selection_w5_arima.md against forecast_selection_w5.md).
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any, Callable

import numpy as np

from tuners.forecast.recurrent import SECONDS as RNN_SECONDS, duel_space as rnn_duel, recurrent, space as rnn_space
from tuners.forecast.lags import lag_choices, lag_forecaster
from tuners.forecast.measures import seasonal_naive

Forecast = Callable[..., list[np.ndarray]]


@dataclasses.dataclass(frozen=True)
class Forecaster:
    name: str
    kind: str  # baseline (always run and reported), statistical (one model per series) or lags (one global model)
    forecast: Forecast
    space: Callable[[int, int, int], list[dict[str, Any]]]  # (season, shortest history, horizon) -> configurations
    library: str
    why: str
    # A pre-search step: configurations backtested first (the rnn's LSTM/GRU duel on a random subset),
    # whose winner's "cell" the space's configurations then keep.
    duel: Callable[[int, int, int], list[dict[str, Any]]] | None = None
    asked_only: bool = False  # backtested only when the rules rank its family or --family names it
    fit_seconds: float = 0.0  # the most one fit may take (0: not bounded); the duel starts only with time for it
    # Reads covariates (their values up to the origin) when its configuration says "covariates": true;
    # with covariates in the table, the stage backtests each configuration with and without them.
    reads_covariates: bool = False


def _naive(values, phases, future_phases, horizon, season_length, config, seed, covariates=None):
    return [seasonal_naive(v, horizon, 1) for v in values]


def _seasonal_naive(values, phases, future_phases, horizon, season_length, config, seed, covariates=None):
    return [seasonal_naive(v, horizon, season_length) for v in values]


def _drift(values, phases, future_phases, horizon, season_length, config, seed, covariates=None):
    """The last value plus the history's average step, once per step ahead (the random walk with drift)."""
    steps = np.arange(1, horizon + 1)
    return [v[-1] + steps * (v[-1] - v[0]) / max(1, len(v) - 1) for v in values]


def _theta(values, phases, future_phases, horizon, season_length, config, seed, covariates=None):
    from statsmodels.tsa.forecasting.theta import ThetaModel

    out = []
    for series in values:
        seasonal = season_length > 1 and len(series) >= 2 * season_length
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = ThetaModel(series, period=season_length if seasonal else 1, deseasonalize=seasonal).fit()
            out.append(np.asarray(model.forecast(horizon), dtype=float))
    return out


ETS_FORMS = [(None, False, None), ("add", False, None), ("add", True, None),
             (None, False, "add"), ("add", False, "add"), ("add", True, "add")]


def _ets(values, phases, future_phases, horizon, season_length, config, seed, covariates=None):
    """Exponential smoothing with each series' own form (trend none, additive or damped; season
    none or additive) chosen by AICc, as Hyndman's automatic ETS does."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    out = []
    for series in values:
        seasonal = season_length > 1 and len(series) >= 2 * season_length + 2
        fits = [lambda t=trend, d=damped, m=season: ExponentialSmoothing(
                    series, trend=t, damped_trend=d, seasonal=m, seasonal_periods=season_length if m else None,
                    initialization_method="estimated").fit()
                for trend, damped, season in ETS_FORMS if seasonal or not season]
        out.append(_lowest_aicc(fits, horizon, seasonal_naive(series, horizon, season_length)))
    return out


def _lowest_aicc(fits: list[Callable[[], Any]], horizon: int, fallback: np.ndarray) -> np.ndarray:
    """The forecast of the fit of lowest AICc (statsmodels' results), or `fallback` when none could be fitted."""
    best, forecast = np.inf, fallback
    for fit_one in fits:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fit = fit_one()
            except (ValueError, np.linalg.LinAlgError):
                continue
        if np.isfinite(fit.aicc) and fit.aicc < best:
            best, forecast = fit.aicc, np.asarray(fit.forecast(horizon), dtype=float)
    return forecast


ARIMA_ORDERS = ((2, 2), (0, 0), (1, 0), (0, 1))  # (p, q): Hyndman and Khandakar's (2008) four starting models
# Bounds on the state-space fits' cost (a seasonal fit of m = 12 on 500 steps takes about 0.7 s here;
# statsforecast's AutoARIMA with m = 48 had not finished 4,032 half-hours in 10 minutes):
ARIMA_STEPS = 1_000  # the latest steps of a series it is fitted on
ARIMA_SEASON = 24  # longer seasons get no seasonal term (hourly data's day at most)
KPSS_LEVEL = 0.05  # a difference is taken while the KPSS test rejects stationarity at this level (at most 2)


def _differences(series: np.ndarray) -> int:
    """How often to difference for stationarity: the KPSS tests' count, as auto.arima's ndiffs does."""
    from statsmodels.tsa.stattools import kpss

    for d in range(2):
        x = np.diff(series, n=d)
        if len(x) < 10 or np.ptp(x) == 0:
            return d
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # KPSS's notice that its p-value is beyond its table
            if kpss(x, regression="c", nlags="auto")[1] >= KPSS_LEVEL:
                return d
    return 2


def _arima(values, phases, future_phases, horizon, season_length, config, seed, covariates=None):
    """ARIMA on each series' latest ARIMA_STEPS: one seasonal difference and a seasonal MA(1) where a season
    of at most ARIMA_SEASON steps is confirmed and the series holds three, plain differences by KPSS tests,
    and the orders of lowest AICc among Hyndman and Khandakar's four starting models; drift (or a constant)
    where the differences leave it identifiable."""
    from statsmodels.tsa.arima.model import ARIMA

    out = []
    for series in values:
        series = series[-ARIMA_STEPS:]
        seasonal = 1 < season_length <= ARIMA_SEASON and len(series) >= 3 * season_length
        d = _differences(series[season_length:] - series[:-season_length] if seasonal else series)
        trend = {0: "c", 1: "t"}.get(d + int(seasonal), "n")
        seasonal_order = (0, 1, 1, season_length) if seasonal else (0, 0, 0, 0)
        fits = [lambda p=p, q=q: ARIMA(series, order=(p, d, q), trend=trend, seasonal_order=seasonal_order).fit()
                for p, q in ARIMA_ORDERS]
        out.append(_lowest_aicc(fits, horizon, seasonal_naive(series, horizon, season_length)))
    return out


def _ridge(config: dict[str, Any], seed: int):
    from sklearn.linear_model import Ridge

    return Ridge(alpha=float(config["alpha"]))


def _xgb(config: dict[str, Any], seed: int):
    """One thread: the stage runs one fit at a time, and on this 2-core machine beside other work a fit of
    200 trees on 4,000 windows took 1.0 s with one thread and 3.7 s with two."""
    from xgboost import XGBRegressor

    return XGBRegressor(n_estimators=int(config["n_estimators"]), max_depth=int(config["max_depth"]),
                        learning_rate=float(config["learning_rate"]), subsample=0.8, random_state=seed, n_jobs=1,
                        verbosity=0)


def _combination(values, phases, future_phases, horizon, season_length, config, seed, covariates=None):
    """The mean of its members' forecasts (config["members"]: [{"family", "config"}])."""
    made = [FORECASTERS[m["family"]].forecast(values, phases, future_phases, horizon, season_length, m["config"], seed,
                                              covariates=covariates) for m in config["members"]]
    return [np.mean([np.asarray(f[k], dtype=float) for f in made], axis=0) for k in range(len(values))]


def _mlp(config: dict[str, Any], seed: int):
    from sklearn.neural_network import MLPRegressor

    return MLPRegressor(hidden_layer_sizes=(int(config["units"]),), alpha=float(config["alpha"]), max_iter=500,
                        early_stopping=True, n_iter_no_change=20, random_state=seed)


def _mlp_space(season: int, shortest: int, horizon: int) -> list[dict[str, Any]]:
    return [{"lags": p, "units": u, "alpha": 1e-3} for p in lag_choices(season, shortest, horizon)[:2] for u in (32, 64)]


def _one(season: int, shortest: int, horizon: int) -> list[dict[str, Any]]:
    return [{}]


def _after_search(season: int, shortest: int, horizon: int) -> list[dict[str, Any]]:
    return []  # its members come from the other families' backtests (tuners/forecast/stage.py)


def _linear_space(season: int, shortest: int, horizon: int) -> list[dict[str, Any]]:
    return [{"lags": p, "alpha": a} for p in lag_choices(season, shortest, horizon) for a in (1.0, 10.0, 0.1)]


def _boosting_space(season: int, shortest: int, horizon: int) -> list[dict[str, Any]]:
    return [{"lags": p, "max_depth": d, "n_estimators": 200, "learning_rate": 0.1}
            for p in lag_choices(season, shortest, 1) for d in (3, 6)]


FORECASTERS: dict[str, Forecaster] = {f.name: f for f in (
    Forecaster("naive", "baseline", _naive, _one, "numpy",
               "the last value, repeated: the floor every forecast must clear"),
    Forecaster("seasonal_naive", "baseline", _seasonal_naive, _one, "numpy",
               "the last season, repeated (the naive forecast without a season): MASE's own yardstick"),
    Forecaster("drift", "statistical", _drift, _one, "numpy",
               "the random walk with drift (the last value plus the history's mean step per step ahead): the naive "
               "forecast of a trending series, one of the forecasting benchmarks of Hyndman and Athanasopoulos"),
    Forecaster("theta", "statistical", _theta, _one, "statsmodels",
               "the Theta method (Assimakopoulos and Nikolopoulos, 2000), M3's winner: a damped trend line and "
               "simple exponential smoothing on the seasonally adjusted series"),
    Forecaster("ets", "statistical", _ets, _one, "statsmodels",
               "exponential smoothing, each series' trend and season form chosen by AICc (Hyndman et al. 2002's "
               "automatic ETS), a benchmark that most M4 entries did not beat"),
    Forecaster("arima", "statistical", _arima, _one, "statsmodels",
               "ARIMA, each series' differences by KPSS tests and its orders by AICc among Hyndman and Khandakar's "
               "(2008) starting models: the other statistical family of M4's benchmarks",
               asked_only=True, fit_seconds=3.0),
    Forecaster("linear", "lags", lag_forecaster(_ridge, direct=True), _linear_space, "scikit-learn",
               "ridge regression on lags and season dummies, every step of the horizon at once (direct): the "
               "linear model on lags that won shared/DATASETS.md's survey of the bundled series",
               reads_covariates=True),
    Forecaster("boosting", "lags", lag_forecaster(_xgb, direct=False), _boosting_space, "XGBoost",
               "gradient-boosted trees on lags and season dummies, one step at a time, each forecast fed back "
               "(recursive): non-linear lag structure that a linear model misses"),
    Forecaster("mlp", "lags", lag_forecaster(_mlp, direct=True), _mlp_space, "scikit-learn",
               "a one-layer perceptron on lags and season dummies, every step of the horizon at once (direct)",
               asked_only=True, reads_covariates=True),
    Forecaster("rnn", "lags", recurrent, rnn_space, "PyTorch",
               "a recurrent net (LSTM or GRU, by a duel on a random subset) reading windows of lags, every step of "
               "the horizon at once: seed 002's 'Time? LSTM'", duel=rnn_duel, asked_only=True, fit_seconds=RNN_SECONDS),
    Forecaster("combination", "combination", _combination, _after_search, "the members' libraries",
               "the mean of the best configuration of each of the backtest's best families: combinations were the "
               "most accurate and most robust forecasts in M4 (its 'Comb' benchmark, the mean of three exponential "
               "smoothing forms, beat most entries)"),
)}
