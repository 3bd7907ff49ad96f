"""A forecast's series as arrays: one (values, time stamps, season phases) per series, oldest step
first, built from the table and its SeriesShape (advisor/timeseries.py), and the stamps that follow
a series' end (what `advisor predict` writes its forecasts against).

The phase of a step is its place in the season, read from its time stamp (the month of a monthly
series, the half-hour of the day of a half-hourly one), so series of a panel that start at
different points of the season agree on it; whole-number steps take their value modulo the season.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from advisor.errors import InputError
from advisor.types import SeriesShape

ONE_SERIES = "series"  # the name of a table's only series


CALENDAR_UNITS = frozenset({"M", "MS", "ME", "Q", "QS", "QE", "BMS", "BME", "BQS", "BQE"})  # steps of unequal days


@dataclasses.dataclass(frozen=True)
class Panel:
    ids: tuple[str, ...]
    values: tuple[np.ndarray, ...]  # float64, oldest first
    stamps: tuple[pd.Series, ...]  # the time column's values, parsed, in the same order
    season_length: int
    frequency: str = "step"  # the SeriesShape's
    # Per series, its covariates' values at each step (steps x covariates), in the same order; () without.
    covariates: tuple[np.ndarray, ...] = ()
    covariate_names: tuple[str, ...] = ()

    @property
    def lengths(self) -> list[int]:
        return [len(v) for v in self.values]


def panel_of(frame: pd.DataFrame, target: str, shape: SeriesShape) -> Panel:
    """The table's series, each sorted by time. Raises InputError on a series with a gap in its target."""
    stamps = parse_stamps(frame[shape.time_column], shape.frequency)
    if shape.series_column is None:
        groups = {ONE_SERIES: np.arange(len(frame))}
    else:
        groups = {str(k): np.asarray(v) for k, v in frame.groupby(shape.series_column, sort=True).indices.items()}
    ids, values, times, covariates = [], [], [], []
    for name, rows in groups.items():
        order = rows[np.argsort(stamps.iloc[rows].to_numpy(), kind="stable")]
        values.append(_numbers(frame, [target], order, stamps, name)[:, 0])
        ids.append(name)
        times.append(stamps.iloc[order].reset_index(drop=True))
        covariates.append(_numbers(frame, list(shape.covariates), order, stamps, name))
    return Panel(tuple(ids), tuple(values), tuple(times), shape.season_length, shape.frequency,
                 tuple(covariates) if shape.covariates else (), tuple(shape.covariates))


def _numbers(frame: pd.DataFrame, columns: list[str], order: np.ndarray, stamps: pd.Series, name: str) -> np.ndarray:
    """The columns' values at a series' rows in time order (steps x columns); InputError at a gap."""
    found = np.column_stack([pd.to_numeric(frame[c].iloc[order], errors="coerce").to_numpy(dtype=np.float64)
                             for c in columns]) if columns else np.zeros((len(order), 0))
    bad = ~np.isfinite(found)
    if bad.any():
        step, column = np.argwhere(bad)[0]
        raise InputError(f"series {name!r}: {columns[column]!r} is missing or not a number at "
                         f"{stamps.iloc[order[step]]}; fill or drop those steps.")
    return found


def parse_stamps(values: pd.Series, frequency: str) -> pd.Series:
    """The time column as datetimes, or as whole numbers for integer steps."""
    if frequency.startswith("step"):
        return values.astype(np.int64).reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.reset_index(drop=True)
    return pd.to_datetime(values.astype(str), errors="coerce", format="mixed").reset_index(drop=True)


def phases(stamps: pd.Series, season_length: int, frequency: str) -> np.ndarray:
    """Each stamp's place in the season (0 .. season_length - 1); all 0 without a season. Calendar
    months and quarters count months; fixed steps (hours, half-hours, days, weeks) count steps since
    1970; business days are their weekday; whole-number steps are taken modulo the season."""
    if season_length <= 1:
        return np.zeros(len(stamps), dtype=np.int64)
    if not pd.api.types.is_datetime64_any_dtype(stamps):
        return np.mod(stamps.to_numpy(dtype=np.int64), season_length)
    unit = re.match(r"\d*([A-Za-z]+)", frequency.split("-")[0])
    unit = unit.group(1) if unit else ""
    if unit in CALENDAR_UNITS:
        months = stamps.dt.year.to_numpy(dtype=np.int64) * 12 + stamps.dt.month.to_numpy(dtype=np.int64) - 1
        return np.mod(months // max(1, 12 // season_length), season_length)
    if unit == "B":
        return np.mod(stamps.dt.day_of_week.to_numpy(dtype=np.int64), season_length)
    step = pd.Timedelta(days=7) if unit == "W" else pd.Timedelta(to_offset(frequency.split("-")[0]))
    elapsed = (stamps - pd.Timestamp("1970-01-01")).to_numpy() // step.to_timedelta64()
    return np.mod(elapsed.astype(np.int64), season_length)


def following(stamps: pd.Series, frequency: str, horizon: int) -> pd.Series:
    """The `horizon` stamps after the last one, at the series' step."""
    last = stamps.iloc[-1]
    if frequency.startswith("step"):
        step = int(frequency.split()[-1]) if frequency != "step" else 1
        return pd.Series(last + step * np.arange(1, horizon + 1))
    if len(frequency) and frequency[0].isalpha():
        return pd.Series(pd.date_range(last, periods=horizon + 1, freq=frequency)[1:])
    step = pd.Timedelta(frequency)
    return pd.Series([last + step * k for k in range(1, horizon + 1)])
