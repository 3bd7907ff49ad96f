"""The forecast task: series from a table, forecasters by name, rolling-origin backtests and the
stage that measures them (tune_forecast), and the forecast past a series' end (advisor predict)."""

from tuners.forecast.models import FORECASTERS, Forecaster
from tuners.forecast.stage import ForecastSettings, tune_forecast

__all__ = ["FORECASTERS", "Forecaster", "ForecastSettings", "tune_forecast"]
