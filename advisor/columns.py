"""Per-column kind (numeric, categorical, text, datetime, id-like) and missing share. Pure."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from advisor.thresholds import (
    DATETIME_MIN_PARSED_FRACTION,
    ID_MIN_DISTINCT_FRACTION,
    TEXT_MIN_DISTINCT_FRACTION,
    TEXT_MIN_MEAN_WORDS,
)
from advisor.types import ColumnKind, ColumnProfile

ID_NAME = re.compile(r"(^|[_\s.-])(id|uuid|guid|key|index)$|^id([_\s.-]|$)", re.IGNORECASE)
MIN_ROWS_FOR_ID = 20  # with fewer rows, "all values distinct" says little
DATETIME_PROBE_VALUES = 200


def profile_columns(frame: pd.DataFrame, sample: pd.DataFrame) -> tuple[ColumnProfile, ...]:
    """Missing shares come from the whole frame; kinds and distinct counts from `sample` (bounded)."""
    missing = frame.isna().mean()
    return tuple(_profile_one(name, sample[name], float(missing[name])) for name in frame.columns)


def _profile_one(name: str, values: pd.Series, missing_fraction: float) -> ColumnProfile:
    present = values.dropna()
    distinct = int(present.nunique())
    dtype = str(values.dtype)
    kind, note = _kind(name, values, present, distinct)
    return ColumnProfile(name=name, kind=kind, dtype=dtype, missing_fraction=missing_fraction, distinct=distinct, note=note)


def _kind(name: str, values: pd.Series, present: pd.Series, distinct: int) -> tuple[ColumnKind, str]:
    if pd.api.types.is_bool_dtype(values):
        return ColumnKind.CATEGORICAL, "true/false values"
    if pd.api.types.is_datetime64_any_dtype(values):
        return ColumnKind.DATETIME, "parsed as timestamps"
    if pd.api.types.is_numeric_dtype(values):
        return _numeric_kind(name, present, distinct)
    if len(present) == 0:
        return ColumnKind.CATEGORICAL, "no values at all"
    text = present.astype(str)
    if _looks_like_dates(text):
        return ColumnKind.DATETIME, f"at least {DATETIME_MIN_PARSED_FRACTION:.0%} of values parse as dates"
    mean_words = float(text.str.split().str.len().mean())
    distinct_fraction = distinct / len(present)
    if mean_words >= TEXT_MIN_MEAN_WORDS and distinct_fraction >= TEXT_MIN_DISTINCT_FRACTION:
        return ColumnKind.TEXT, f"{mean_words:.1f} words per value on average, {distinct_fraction:.0%} distinct"
    if len(present) >= MIN_ROWS_FOR_ID and distinct_fraction >= ID_MIN_DISTINCT_FRACTION:
        return ColumnKind.ID_LIKE, f"{distinct_fraction:.0%} of values distinct"
    return ColumnKind.CATEGORICAL, f"{distinct} distinct values"


def _numeric_kind(name: str, present: pd.Series, distinct: int) -> tuple[ColumnKind, str]:
    if len(present) >= MIN_ROWS_FOR_ID and distinct == len(present):
        array = present.to_numpy(dtype=np.float64, na_value=np.nan)
        finite = array[np.isfinite(array)]
        integral = finite.size == array.size and bool(np.all(np.floor(finite) == finite))
        if integral:
            steps = np.diff(array)
            counter = steps.size > 0 and bool(np.all(np.abs(steps) == 1))
            if counter or ID_NAME.search(str(name)):
                why = "a running counter" if counter else "distinct integers in a column named like an id"
                return ColumnKind.ID_LIKE, why
    return ColumnKind.NUMERIC, f"{distinct} distinct values"


def _looks_like_dates(text: pd.Series) -> bool:
    probe = text.iloc[:DATETIME_PROBE_VALUES]
    if probe.str.contains(r"\d", regex=True).mean() < DATETIME_MIN_PARSED_FRACTION:
        return False
    if probe.str.len().max() > 40:  # long values are sentences, not timestamps
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parsed = pd.to_datetime(probe.to_numpy(dtype=object), errors="coerce", format="mixed")
        except (ValueError, TypeError, OverflowError):
            return False
    return float(pd.notna(parsed).mean()) >= DATETIME_MIN_PARSED_FRACTION
