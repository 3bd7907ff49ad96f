"""A forecast run's figure: each shown series' recent history, the backtest windows shaded, and the
chosen model's forecast of the test window against what happened (from result["forecast"])."""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from reports.plots import _svg

WINDOW_COLOUR = "#bf8700"


def _times(values: list[Any]) -> list[Any]:
    if values and isinstance(values[0], str):
        return list(pd.to_datetime(values, format="ISO8601"))
    return values


def forecast_against_actual(result: dict[str, Any]) -> str | None:
    shown = result.get("forecast", {}).get("test", [])
    if not shown:
        return None
    figure = Figure(figsize=(7.5, 2.3 * len(shown)))
    axes = figure.subplots(len(shown), 1, squeeze=False)[:, 0]
    windows = result["forecast"].get("windows", [])
    for k, (axis, series) in enumerate(zip(axes, shown)):
        axis.plot(_times(series["history_time"]), series["history"], color="#57606a", lw=1, label="history")
        axis.plot(_times(series["time"]), series["actual"], color="#1f6feb", lw=1.5, label="actual (test window)")
        axis.plot(_times(series["time"]), series["predicted"], color="#cf222e", lw=1.5, ls="--", label="forecast")
        if k == 0:  # the windows' times are the first series'
            for i, window in enumerate(windows):
                start, end = _times([window["start"], window["end"]])
                axis.axvspan(start, end, color=WINDOW_COLOUR, alpha=0.12, label="backtest windows" if i == 0 else None)
        axis.set_title(str(series["series"])[:60], fontsize=8)
        axis.grid(alpha=0.3)
        axis.tick_params(labelsize=7)
    axes[0].legend(fontsize=7, loc="upper left")
    figure.tight_layout()
    return _svg(figure, "forecast")


def forecast_plots(result: dict[str, Any]) -> dict[str, str | None]:
    return {"forecast": forecast_against_actual(result)}
