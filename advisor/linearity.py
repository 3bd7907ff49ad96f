"""The linearity probe: does a linear model come within tolerance of a non-linear reference?

Measured, not guessed: both models are cross-validated on the same bounded random subsample, with
all preprocessing inside the folds. The features the probe sees depend on the modality (columns,
pixels, resampled series, TF-IDF of the text), built by one small function per modality.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from advisor.loading import Dataset
from advisor.modality import Detection, sequence_frame
from advisor.thresholds import (
    LINEARITY_TOLERANCE,
    PROBE_FOLDS,
    PROBE_MAX_ROWS,
    PROBE_SEQUENCE_POINTS,
    PROBE_TEXT_FEATURES,
)
from advisor.types import ColumnKind, ColumnProfile, Linearity, Modality, Task

MISSING = "(missing)"


def probe_linearity(
    dataset: Dataset, detection: Detection, columns: tuple[ColumnProfile, ...], task: Task, seed: int = 0
) -> Linearity:
    if task == Task.CLUSTERING:
        return Linearity(None, None, None, note="not measured: without a target there is nothing to fit")
    features, labels = _probe_inputs(dataset, detection, columns, seed)
    if features is None:
        return Linearity(None, None, None, note="not measured: no usable feature columns")
    classification = task.is_classification
    linear, nonlinear = _models(detection.modality, classification, seed)
    folds = _folds(labels, classification, seed)
    metric = "accuracy" if classification else "r2"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on a quick probe is not the user's concern
        linear_score = float(np.mean(cross_val_score(linear, features, labels, cv=folds, scoring=metric)))
        nonlinear_score = float(np.mean(cross_val_score(nonlinear, features, labels, cv=folds, scoring=metric)))
    return Linearity(
        linear=bool(linear_score >= nonlinear_score - LINEARITY_TOLERANCE),
        linear_score=round(linear_score, 4),
        nonlinear_score=round(nonlinear_score, 4),
        metric=metric,
        linear_model=type(linear[-1]).__name__,
        nonlinear_model=type(nonlinear[-1]).__name__,
        sample_rows=int(len(labels)),
        folds=folds.get_n_splits(),
        tolerance=LINEARITY_TOLERANCE,
    )


def _models(modality: Modality, classification: bool, seed: int) -> tuple[Pipeline, Pipeline]:
    """(linear, non-linear reference), each with its own copy of the feature steps (fitted per fold)."""
    if classification:
        # A forest handles every class in one tree, so its cost does not grow with the number of
        # classes as boosting's does (digits: 1.8 s against 12 s, and a higher score).
        linear, nonlinear = LogisticRegression(max_iter=2000), RandomForestClassifier(
            n_estimators=200, n_jobs=-1, random_state=seed
        )
    else:
        linear, nonlinear = Ridge(alpha=1.0), HistGradientBoostingRegressor(random_state=seed)
    steps = {Modality.TABULAR: _preprocessor, Modality.TEXT: _text_vectoriser}.get(modality)
    linear_steps = [steps()] if steps else []
    nonlinear_steps = [steps()] if steps else []
    if modality != Modality.TEXT:  # TF-IDF rows are already normalised
        linear_steps.append(StandardScaler())
    return make_pipeline(*linear_steps, linear), make_pipeline(*nonlinear_steps, nonlinear)


def _folds(labels: np.ndarray, classification: bool, seed: int) -> KFold | StratifiedKFold:
    if classification:
        smallest = int(pd.Series(labels).value_counts().min())
        if smallest >= PROBE_FOLDS:
            return StratifiedKFold(PROBE_FOLDS, shuffle=True, random_state=seed)
    return KFold(PROBE_FOLDS, shuffle=True, random_state=seed)


def _preprocessor() -> ColumnTransformer:
    numeric = make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler())
    categorical = OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=20, sparse_output=False)
    return ColumnTransformer(
        [
            ("numeric", numeric, lambda frame: [c for c in frame.columns if frame[c].dtype.kind == "f"]),
            ("categorical", categorical, lambda frame: [c for c in frame.columns if frame[c].dtype.kind == "O"]),
        ]
    )


def _text_vectoriser() -> TfidfVectorizer:
    return TfidfVectorizer(max_features=PROBE_TEXT_FEATURES, sublinear_tf=True)


def _probe_inputs(dataset: Dataset, detection: Detection, columns: tuple[ColumnProfile, ...], seed: int):
    """(features, labels) for the probe, at most PROBE_MAX_ROWS samples; (None, None) if nothing usable."""
    rng = np.random.default_rng(seed)
    if dataset.images is not None:
        pixels = dataset.images.pixels.astype(np.float32).mean(axis=3)  # luminance is enough for the probe
        return pixels.reshape(len(pixels), -1) / 255.0, dataset.images.labels
    if detection.sequence is not None:
        return _sequence_features(dataset, detection, rng)
    frame = _subsample(dataset.frame, rng)
    labels = _labels(frame[dataset.target])
    if detection.pixel_columns:
        return frame[list(detection.pixel_columns)].to_numpy(dtype=np.float64, na_value=0.0), labels
    if detection.text_columns:
        joined = frame[list(detection.text_columns)].fillna("").astype(str).agg(" ".join, axis=1)
        return joined.to_numpy(dtype=object), labels
    table = _tabular_features(frame, columns, dataset.target)
    return (None, None) if table.shape[1] == 0 else (table, labels)


def _subsample(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    if len(frame) <= PROBE_MAX_ROWS:
        return frame
    return frame.iloc[np.sort(rng.choice(len(frame), PROBE_MAX_ROWS, replace=False))]


def _labels(target: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(target) and not pd.api.types.is_bool_dtype(target):
        return target.to_numpy(dtype=np.float64)
    return target.astype(str).to_numpy(dtype=object)


def _tabular_features(frame: pd.DataFrame, columns: tuple[ColumnProfile, ...], target: str) -> pd.DataFrame:
    """Numeric columns as float64, categorical ones as plain Python strings (sklearn rejects Arrow strings)."""
    data = {}
    for column in columns:
        if column.name == target:
            continue
        values = frame[column.name]
        if column.kind == ColumnKind.NUMERIC:
            array = values.to_numpy(dtype=np.float64, na_value=np.nan)
            data[column.name] = np.where(np.isfinite(array), array, np.nan)
        elif column.kind == ColumnKind.CATEGORICAL:
            data[column.name] = values.astype(object).where(values.notna(), MISSING).astype(str).to_numpy(dtype=object)
    return pd.DataFrame(data, index=range(len(frame)))


def _sequence_features(dataset: Dataset, detection: Detection, rng: np.random.Generator):
    """Each series resampled to a fixed number of points per value column, flattened."""
    shape = detection.sequence
    ordered = sequence_frame(dataset.frame, shape)
    groups = list(ordered.groupby(shape.id_column, sort=False))
    if len(groups) > PROBE_MAX_ROWS:
        groups = [groups[i] for i in np.sort(rng.choice(len(groups), PROBE_MAX_ROWS, replace=False))]
    grid = np.linspace(0.0, 1.0, PROBE_SEQUENCE_POINTS)
    rows, labels = [], []
    for _, series in groups:
        values = series[list(shape.value_columns)].to_numpy(dtype=np.float64, na_value=np.nan)
        position = np.linspace(0.0, 1.0, len(values))
        resampled = [np.interp(grid, position, np.nan_to_num(values[:, j])) for j in range(values.shape[1])]
        rows.append(np.concatenate(resampled))
        labels.append(series[dataset.target].iloc[0])
    return np.vstack(rows), _labels(pd.Series(labels))
