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
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler, TargetEncoder

from advisor.types import ColumnKind, ColumnProfile

MISSING = "(missing)"
MAX_ONE_HOT_CATEGORIES = 20
TEXT_FEATURES = 20_000
TARGET_MEAN_FOLDS = 5  # scikit-learn's TargetEncoder default: cross fitting over five folds


@dataclasses.dataclass(frozen=True)
class FeatureSpec:
    """Which columns feed a model, and as what. Stored with an exported model to check new data."""

    numeric: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    text: tuple[str, ...] = ()
    datetime: tuple[str, ...] = ()
    # Categorical columns with more levels than one-hot keeps: also given as their target's mean.
    target_mean: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.numeric + self.datetime + self.categorical + self.text

    @classmethod
    def from_profiles(cls, columns: Iterable[ColumnProfile], target: str | None, use_text: bool = True) -> "FeatureSpec":
        columns = tuple(columns)
        by_kind: dict[ColumnKind, list[str]] = {kind: [] for kind in ColumnKind}
        many_levels = {column.name for column in columns if column.distinct > MAX_ONE_HOT_CATEGORIES}
        for column in columns:
            if column.name != target:
                by_kind[column.kind].append(column.name)
        return cls(
            numeric=tuple(by_kind[ColumnKind.NUMERIC]),
            categorical=tuple(by_kind[ColumnKind.CATEGORICAL]),
            text=tuple(by_kind[ColumnKind.TEXT]) if use_text else (),
            datetime=tuple(by_kind[ColumnKind.DATETIME]),
            target_mean=tuple(n for n in by_kind[ColumnKind.CATEGORICAL] if n in many_levels) if target else (),
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


def preprocessor(spec: FeatureSpec, scale: bool = True, text_features: int = TEXT_FEATURES,
                 classification: bool = False) -> ColumnTransformer:
    """Impute (+ scale) numbers, encode categories, TF-IDF each text column. Fit it inside the folds,
    with the target (`classification` says which kind) where `spec.target_mean` names columns."""
    numeric_steps = [SimpleImputer(strategy="median", keep_empty_features=True)] + ([StandardScaler()] if scale else [])
    categorical = OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=MAX_ONE_HOT_CATEGORIES)
    parts = []
    if spec.numeric or spec.datetime:
        parts.append(("numeric", make_pipeline(*numeric_steps), list(spec.numeric + spec.datetime)))
    if spec.categorical:
        parts.append(("categorical", categorical, list(spec.categorical)))
    if spec.target_mean:
        parts.append(("target_mean", target_mean(classification, scale), list(spec.target_mean)))
    for name in spec.text:
        parts.append((f"text:{name}", TfidfVectorizer(max_features=text_features, sublinear_tf=True), name))
    return ColumnTransformer(parts, sparse_threshold=0.3)


def describe(spec: FeatureSpec) -> str:
    """How the columns enter the model, in words (result.json's model.inputs, the report)."""
    def names(columns):
        shown = ", ".join(columns[:5])
        return shown + (f" and {len(columns) - 5} more" if len(columns) > 5 else "")
    parts = []
    if spec.numeric or spec.datetime:
        parts.append(f"{len(spec.numeric) + len(spec.datetime)} numbers (dates as seconds), missing values as the median")
    if spec.categorical:
        parts.append(f"{len(spec.categorical)} categorical columns one-hot encoded (the {MAX_ONE_HOT_CATEGORIES} most "
                     "frequent levels, the rest together)")
    if spec.target_mean:
        parts.append(f"{names(spec.target_mean)} (more than {MAX_ONE_HOT_CATEGORIES} levels) also as the target's mean "
                     "per level, cross-fitted")
    if spec.text:
        parts.append(f"{names(spec.text)} as TF-IDF word weights")
    return "; ".join(parts)


def target_mean(classification: bool, scale: bool):
    """Each level as the target's mean over the rows that have it, shrunk toward the overall mean
    (Micci-Barreca, "A preprocessing scheme for high-cardinality categorical attributes", SIGKDD
    Explorations 2001; scikit-learn's TargetEncoder). One-hot keeps MAX_ONE_HOT_CATEGORIES levels
    and folds the rest into one column, which loses a zip code's or a neighbourhood's price. Fitted
    with cross fitting, so no training row sees its own target. Measured on the 3 tables with such
    columns x 2 splits: XGBoost's defaults +1.82 test points at the median (worst -0.78): sacramento
    (city 36 levels, zip 66) 0.574 -> 0.632 R^2, ames (Neighborhood 27) 0.874 -> 0.909; linear
    models' median level (bench/results/target_mean.md)."""
    folds = KFold(TARGET_MEAN_FOLDS, shuffle=True, random_state=0)
    encoder = TargetEncoder(target_type="auto" if classification else "continuous", cv=folds)
    return make_pipeline(encoder, StandardScaler()) if scale else encoder
