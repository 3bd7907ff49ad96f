"""From a profiled table to what scikit-learn-style models take: a frame of plain columns and the
preprocessing that is fitted inside each fold. Used by the linearity probe, the tuners and predict,
so training and prediction turn columns into features the same way.
"""

from __future__ import annotations

import dataclasses
from typing import Iterable

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from advisor.types import ColumnKind, ColumnProfile

MISSING = "(missing)"
MAX_ONE_HOT_CATEGORIES = 20
TEXT_FEATURES = 20_000


@dataclasses.dataclass(frozen=True)
class FeatureSpec:
    """Which columns feed a model, and as what. Stored with an exported model to check new data."""

    numeric: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    text: tuple[str, ...] = ()
    datetime: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.numeric + self.datetime + self.categorical + self.text

    @classmethod
    def from_profiles(cls, columns: Iterable[ColumnProfile], target: str | None, use_text: bool = True) -> "FeatureSpec":
        by_kind: dict[ColumnKind, list[str]] = {kind: [] for kind in ColumnKind}
        for column in columns:
            if column.name != target:
                by_kind[column.kind].append(column.name)
        return cls(
            numeric=tuple(by_kind[ColumnKind.NUMERIC]),
            categorical=tuple(by_kind[ColumnKind.CATEGORICAL]),
            text=tuple(by_kind[ColumnKind.TEXT]) if use_text else (),
            datetime=tuple(by_kind[ColumnKind.DATETIME]),
        )


def feature_frame(frame: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """Numeric and datetime columns as float64 (inf -> NaN), the rest as Python strings.

    scikit-learn rejects pandas' Arrow-backed strings, so every column leaves here as plain numpy.
    """
    data: dict[str, np.ndarray] = {}
    for name in spec.numeric:
        values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        data[name] = np.where(np.isfinite(values), values, np.nan)
    for name in spec.datetime:
        stamps = pd.to_datetime(frame[name], errors="coerce", format="mixed", utc=True)
        seconds = (stamps - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
        data[name] = seconds.to_numpy(dtype=np.float64, na_value=np.nan)
    for name in spec.categorical + spec.text:
        values = frame[name]
        data[name] = values.astype(object).where(values.notna(), MISSING).astype(str).to_numpy(dtype=object)
    return pd.DataFrame(data, index=range(len(frame)))


def preprocessor(spec: FeatureSpec, scale: bool = True, text_features: int = TEXT_FEATURES) -> ColumnTransformer:
    """Impute (+ scale) numbers, encode categories, TF-IDF each text column. Fit it inside the folds."""
    numeric_steps = [SimpleImputer(strategy="median", keep_empty_features=True)] + ([StandardScaler()] if scale else [])
    categorical = OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=MAX_ONE_HOT_CATEGORIES)
    parts = []
    if spec.numeric or spec.datetime:
        parts.append(("numeric", make_pipeline(*numeric_steps), list(spec.numeric + spec.datetime)))
    if spec.categorical:
        parts.append(("categorical", categorical, list(spec.categorical)))
    for name in spec.text:
        parts.append((f"text:{name}", TfidfVectorizer(max_features=text_features, sublinear_tf=True), name))
    return ColumnTransformer(parts, sparse_threshold=0.3)
