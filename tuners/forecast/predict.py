"""`advisor predict` for a forecast run: the chosen forecaster, with its configuration, fitted on
the history given and run `horizon` steps past the end of each series."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from advisor.errors import InputError
from advisor.timeseries import detect
from tuners.forecast.intervals import bounds
from tuners.forecast.lags import scale_of
from tuners.forecast.models import FORECASTERS
from tuners.forecast.panel import following, panel_of, phases
from tuners.forecast.stage import MODEL_FILE


def is_forecast(model_dir: Path) -> bool:
    return (model_dir / MODEL_FILE).is_file()


def forecast_manifest(model_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((model_dir / MODEL_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"{model_dir / MODEL_FILE}: unreadable ({error}). Rerun advisor recommend.") from None


def _lags(config: dict[str, Any]) -> int:
    """The most past steps a configuration reads (a combination's: its members' most)."""
    return max([int(config.get("lags", 1)), *(_lags(m["config"]) for m in config.get("members", []))])


def forecast_next(manifest: dict[str, Any], frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """One row per series and future step: `series`, the time column, `prediction`, and the 80% and 95%
    intervals from the model's backtest errors (`lower_80`, `upper_80`, `lower_95`, `upper_95`)."""
    time, series, target = manifest["time_column"], manifest["series_column"], manifest["target"]
    covariates = tuple(manifest.get("covariates", []))
    missing = [c for c in (time, series, target, *covariates) if c is not None and c not in frame.columns]
    if missing:
        raise InputError(f"{source}: lacks the column(s) {', '.join(map(repr, missing))} the forecast was trained on.")
    frame = frame.dropna(subset=[target]).reset_index(drop=True)
    shape = detect(frame, target, time, series, required=True)
    if shape.frequency != manifest["frequency"]:
        raise InputError(f"{source}: the history steps {shape.frequency}; the model forecasts {manifest['frequency']} "
                         "steps. Give the history at the training frequency.")
    panel = panel_of(frame, target, dataclasses.replace(shape, season_length=manifest["season_length"],
                                                        covariates=covariates))
    horizon, config = int(manifest["horizon"]), manifest["config"]
    need = _lags(config) + 1
    short = [(name, len(v)) for name, v in zip(panel.ids, panel.values) if len(v) < need]
    if short:
        raise InputError(f"{source}: series {short[0][0]!r} has {short[0][1]} steps; this model reads the last "
                         f"{need - 1} and needs at least {need}. Give a longer history.")
    futures = [following(stamps, shape.frequency, horizon) for stamps in panel.stamps]
    past_phases = [phases(stamps, panel.season_length, shape.frequency) for stamps in panel.stamps]
    ahead = [phases(future, panel.season_length, shape.frequency) for future in futures]
    forecaster = FORECASTERS[manifest["family"]]
    forecasts = forecaster.forecast(list(panel.values), past_phases, ahead, horizon, panel.season_length, config, 0,
                                    covariates=list(panel.covariates) or None)
    spread = manifest.get("intervals", {})
    return pd.concat([pd.DataFrame({"series": name, time: future.to_numpy(), "prediction": np.asarray(f, dtype=float),
                                    **bounds(np.asarray(f, dtype=float), scale_of(values, panel.season_length), spread)})
                      for name, future, f, values in zip(panel.ids, futures, forecasts, panel.values)],
                     ignore_index=True)
