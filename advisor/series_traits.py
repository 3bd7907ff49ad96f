"""A forecast series' traits for the profile: how strong its trend and season are, and whether it
looks stationary. Strengths as Hyndman and Athanasopoulos define them (Forecasting: Principles and
Practice, 3rd ed., 4.3, after Wang, Smith and Hyndman 2006): from an STL decomposition into trend T,
season S and remainder R, trend strength max(0, 1 - Var(R) / Var(T + R)) and seasonal strength
max(0, 1 - Var(R) / Var(S + R)), each from 0 (none) to 1. Without a season the trend is a centred
moving average. Stationarity: the augmented Dickey-Fuller test (statsmodels), a unit root rejected
at 5%."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

ADF_LEVEL = 0.05
TREND_SHARE = 0.1  # without a season: the moving average spans this share of the series (odd, at least 3)


def _strength(remainder: np.ndarray, part: np.ndarray) -> float:
    total = np.var(part + remainder)
    return float(max(0.0, 1.0 - np.var(remainder) / total)) if total > 0 else 0.0


def traits(values: np.ndarray, season_length: int) -> dict[str, float | bool | None]:
    """{"trend_strength", "seasonal_strength" (None without a season), "adf_pvalue", "stationary"}."""
    from statsmodels.tsa.seasonal import STL
    from statsmodels.tsa.stattools import adfuller

    values = np.asarray(values, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if season_length > 1 and len(values) >= 2 * season_length + 1:
            fit = STL(values, period=season_length, robust=True).fit()
            trend, seasonal, remainder = fit.trend, fit.seasonal, fit.resid
            seasonal_strength = round(_strength(remainder, seasonal), 4)
        else:
            window = max(3, int(TREND_SHARE * len(values)) | 1)
            trend = pd.Series(values).rolling(window, center=True, min_periods=1).mean().to_numpy()
            remainder, seasonal_strength = values - trend, None
        pvalue = float(adfuller(values, autolag="AIC")[1]) if len(values) >= 10 else None
    return {"trend_strength": round(_strength(remainder, trend), 4), "seasonal_strength": seasonal_strength,
            "adf_pvalue": None if pvalue is None else round(pvalue, 4),
            "stationary": None if pvalue is None else pvalue < ADF_LEVEL}
