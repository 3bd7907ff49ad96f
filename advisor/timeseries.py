"""Whether a table is a series to forecast, and its shape (issue 19's detection): a time column with
regular steps and a numeric target make one series; a series id column beside them makes a panel
(many series in long format). Rows may come in any order: each series is sorted by time.

A time column holds datetimes (a datetime type, or text that parses as dates in every row), or
whole numbers in a column named as a time (TIME_WORDS: sunspots' YEAR). An integer column named
otherwise (an id, a count) is taken for time only when named with `time=`. Unasked, a table whose
time column repeats or skips steps is no series (None: it stays a table); asked (`required=True`,
the CLI's --task forecast or --time), it is refused with the first offending rows.

The season length comes from the frequency, the periods Hyndman and Athanasopoulos list in
Forecasting: Principles and Practice (3rd ed., 12.1): hourly 24, daily 7, weekly 52, monthly 12,
quarterly 4; yearly data and integer steps have none. It is kept only where the target's
autocorrelation at that lag confirms it (SEASON_ACF_MIN), taken after a centred moving average of
one season (classical decomposition's trend) is subtracted, on a series at least two seasons long:
Mauna Loa CO2 weekly 0.97 at lag 52, macrodata's seasonally adjusted quarterly series at most 0.18
at lag 4, a random walk -0.12 at lag 12.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from advisor.errors import InputError
from advisor.series_traits import traits
from advisor.types import SeriesShape

TIME_WORDS = frozenset({"year", "time", "t", "step", "period", "date", "datetime", "timestamp", "month", "week",
                        "day", "hour"})
SEASONS = {"h": 24, "H": 24, "D": 7, "B": 5, "W": 52, "M": 12, "MS": 12, "ME": 12, "Q": 4, "QS": 4, "QE": 4,
           "min": 60, "T": 60}
MINUTES_A_DAY = 1440
SEASON_ACF_MIN = 0.3  # autocorrelation at the season's lag that confirms it
MIN_STEPS = 3  # a frequency needs three points
SERIES_MAX_SHARE = 0.5  # a series id column has at most this many distinct values per row
PARSE_SAMPLE = 20  # rows of a text column parsed as dates before all of them are


def detect(frame: pd.DataFrame, target: str | None, time: str | None = None, series: str | None = None,
           required: bool = False) -> SeriesShape | None:
    """The table's series shape, or None when it is no series; with `required`, why not as an InputError."""
    try:
        return _detect(frame, target, time, series)
    except _NotSeries as why:
        if required:
            raise InputError(f"{why} Pass --task regression to treat the rows as a table.") from None
        return None


class _NotSeries(Exception):
    pass


def _detect(frame: pd.DataFrame, target: str | None, time: str | None, series: str | None) -> SeriesShape:
    if target is not None and target in frame and _numeric_target(frame[target], distinct=1) \
            and frame[target].nunique() == 1:
        raise _NotSeries(f"the target {target!r} is constant ({frame[target].iloc[0]} in every row): nothing to "
                         "forecast but that value.")
    if target is None or target not in frame or not _numeric_target(frame[target]):
        raise _NotSeries(f"forecasting needs a numeric target; {target!r} is not one.")
    frame = frame.reset_index(drop=True)  # rows are named by position in messages
    time = time or _time_column(frame, target)
    if time not in frame:
        raise _NotSeries(f"no column {time!r} (--time); the columns are {', '.join(map(str, frame.columns[:8]))}.")
    stamps = _stamps(frame[time], time, named=True)
    if series is not None and series not in frame:
        raise _NotSeries(f"no column {series!r} (--series).")
    series = series or _series_column(frame, target, time, stamps)
    if series is not None and frame.groupby(series, sort=False)[target].nunique().max() <= 1:
        raise _NotSeries(f"{target!r} holds one value per {series!r}: a label per series (sequence classification), "
                         "not values to forecast.")
    groups = [np.arange(len(frame))] if series is None else [np.asarray(i) for i in
                                                             frame.groupby(series, sort=False).indices.values()]
    frequency = _frequency(stamps, groups, time)
    lengths = sorted(len(g) for g in groups)
    longest = max(groups, key=len)
    season, reason = _season(frequency, frame[target], stamps, longest)
    ordered = frame[target].iloc[longest].to_numpy(dtype=float)[np.argsort(stamps.iloc[longest].to_numpy(),
                                                                           kind="stable")]
    read, left_out = _covariates(frame, (target, time, series))
    return SeriesShape(time, series, frequency, season, reason, len(groups),
                       {"min": lengths[0], "median": int(np.median(lengths)), "max": lengths[-1]},
                       **traits(ordered, season), covariates=read, covariates_left_out=left_out)


def _covariates(frame: pd.DataFrame, taken: tuple[str | None, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The other columns: numbers in every row are covariates; the rest are left out, each with why."""
    read, left_out = [], []
    for name in frame.columns:
        if name in taken:
            continue
        values = frame[name]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            left_out.append(f"{name!r} (not numeric)")
        elif not np.isfinite(values.to_numpy(dtype=float)).all():
            left_out.append(f"{name!r} (missing in {int((~np.isfinite(values.to_numpy(dtype=float))).sum())} rows)")
        elif values.nunique() <= 1:
            left_out.append(f"{name!r} (constant)")
        else:
            read.append(str(name))
    return tuple(read), tuple(left_out)


def _numeric_target(values: pd.Series, distinct: int = 3) -> bool:
    """Numbers (not booleans) with at least `distinct` values."""
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values) and \
        values.nunique() >= distinct


def _time_column(frame: pd.DataFrame, target: str) -> str:
    for name in frame.columns:
        if name != target and _stamps(frame[name], name, named=False) is not None:
            return name
    raise _NotSeries("no time column: give one of dates, or of whole-number steps named as a time "
                     "(year, time, step, period), or name it with --time.")


def _stamps(values: pd.Series, name: str, named: bool) -> pd.Series | None:
    """The column as datetimes or whole-number steps; None (or, when named, why not)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        timely = named or re.sub(r"[^a-z]", "", str(name).lower()) in TIME_WORDS
        if timely and values.notna().all() and bool(np.all(np.mod(values.to_numpy(dtype=float), 1) == 0)):
            return values.astype(np.int64)
    elif values.notna().all() and _dates(values.head(PARSE_SAMPLE)).notna().all():  # a sample first: text is slow
        parsed = _dates(values)
        if parsed.notna().all():
            return parsed
    if named:
        raise _NotSeries(f"column {name!r} holds neither dates nor whole-number steps in every row.")
    return None


def _dates(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values.astype(str), errors="coerce", format="mixed")


def _series_column(frame: pd.DataFrame, target: str, time: str, stamps: pd.Series) -> str | None:
    """None when the time values are unique; else the first column that makes (it, time) unique."""
    if not stamps.duplicated().any():
        return None
    for name in frame.columns:
        if name in (target, time) or frame[name].nunique() > SERIES_MAX_SHARE * len(frame):
            continue
        if not pd.DataFrame({"s": frame[name].to_numpy(), "t": stamps.to_numpy()}).duplicated().any():
            return name
    first = stamps[stamps.duplicated(keep=False)].index[:2]
    raise _NotSeries(f"{time!r} repeats {stamps[first[0]]} (rows {first[0] + 1} and {first[1] + 1}) and no column "
                     "tells the series apart: name it with --series, or remove the duplicates.")


def _frequency(stamps: pd.Series, groups: list[np.ndarray], time: str) -> str:
    """The one step every series takes (the longest series' inferred frequency)."""
    if min(len(g) for g in groups) < MIN_STEPS:
        raise _NotSeries(f"a series needs at least {MIN_STEPS} time steps; the shortest here has "
                         f"{min(len(g) for g in groups)}.")
    found = {_step(stamps.iloc[g], time) for g in groups}
    if len(found) > 1:
        raise _NotSeries(f"the series step differently in {time!r} ({', '.join(sorted(found))}): resample them "
                         "to one frequency.")
    return found.pop()


def _step(stamps: pd.Series, time: str) -> str:
    ordered = stamps.sort_values()
    steps = ordered.diff().iloc[1:]
    if (steps == steps.iloc[0]).all():
        if pd.api.types.is_datetime64_any_dtype(ordered):
            return _inferred(ordered) or str(steps.iloc[0])
        return "step" if steps.iloc[0] == 1 else f"step of {steps.iloc[0]}"
    calendar = _inferred(ordered) if pd.api.types.is_datetime64_any_dtype(ordered) else None
    if calendar:
        return calendar  # months and years: calendar steps of unequal days
    if pd.api.types.is_datetime64_any_dtype(ordered):
        _calendar_gap(ordered, time)
    usual = steps.mode().iloc[0]
    odd = steps.index[(steps != usual).to_numpy()][0]
    before = ordered.index[ordered.index.get_loc(odd) - 1]
    raise _NotSeries(f"{time!r} steps irregularly: rows {before + 1} and {odd + 1} are {steps[odd]} apart where "
                     f"the series steps {usual}; resample it to a regular frequency.")


def _calendar_gap(ordered: pd.Series, time: str) -> None:
    """Where sorted datetimes first leave the calendar step their first rows take (months, quarters: steps of
    unequal days), as _NotSeries; nothing when no calendar step fits their start."""
    for first in (4, 8, 16):
        found = _inferred(ordered.iloc[:first]) if len(ordered) > first else None
        if found and not found[0].isdigit():
            expected = pd.date_range(ordered.iloc[0], periods=len(ordered), freq=found)
            odd = int(np.argmax(ordered.to_numpy() != expected.to_numpy()))
            before, at = ordered.index[odd - 1], ordered.index[odd]
            raise _NotSeries(f"{time!r} steps irregularly: rows {before + 1} and {at + 1} go from "
                             f"{ordered.iloc[odd - 1]:%Y-%m-%d} to {ordered.iloc[odd]:%Y-%m-%d} where the {found} "
                             f"series steps to {expected[odd]:%Y-%m-%d}; resample it to a regular frequency.")


def _inferred(ordered: pd.Series) -> str | None:
    """pandas' frequency alias for sorted datetimes, or None (pandas 3 moves it to an offset object)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the notice of that move
        found = pd.infer_freq(pd.DatetimeIndex(ordered))
    return getattr(found, "freqstr", found)


def season_of(frequency: str) -> int:
    """The calendar season of a frequency in steps (1: none). A multiple of a unit divides its season
    ("2MS": 6, "6h": 4); steps of several minutes take the day ("30min": 48, FPP3's half-hourly)."""
    found = re.match(r"(\d*)([A-Za-z]+)", frequency.split("-")[0])
    if not found:
        return 1
    times, unit = int(found.group(1) or 1), found.group(2)
    season = MINUTES_A_DAY if unit in ("min", "T") and times > 1 else SEASONS.get(unit, 1)
    return season // times if season % times == 0 and season // times > 1 else 1


def _season(frequency: str, target: pd.Series, stamps: pd.Series, longest: np.ndarray) -> tuple[int, str]:
    season = season_of(frequency)
    if season == 1:
        return 1, f"no season: a {frequency} series (yearly data and integer steps have none)"
    values = target.iloc[longest].to_numpy(dtype=float)[np.argsort(stamps.iloc[longest].to_numpy(), kind="stable")]
    if len(values) < 2 * season:
        return 1, f"no season: the longest series has {len(values)} steps, under two seasons of {season}"
    series = pd.Series(values)
    detrended = (series - series.rolling(season, center=True).mean()).dropna()  # classical decomposition's trend out
    acf = float(detrended.autocorr(lag=season))
    if not np.isfinite(acf) or acf < SEASON_ACF_MIN:
        return 1, (f"no season: autocorrelation {acf:.2f} at lag {season} (the {frequency} season) is under "
                   f"{SEASON_ACF_MIN}")
    return season, f"{season} steps, the {frequency} season, confirmed by autocorrelation {acf:.2f} at that lag"
