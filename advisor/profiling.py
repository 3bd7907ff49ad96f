"""Profiling: a Dataset -> a Profile (size, column kinds, task, balance, modality, linearity). Pure."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from advisor.columns import profile_columns
from advisor.errors import InputError
from advisor.linearity import probe_linearity
from advisor.loading import Dataset
from advisor.modality import detect_modality
from advisor.thresholds import MAX_CLASSES_FOR_INTEGER_TARGET, MIN_ROWS, PROFILE_SAMPLE_ROWS
from advisor.timeseries import detect
from advisor.types import ColumnKind, ColumnProfile, Linearity, Profile, SeriesShape, Task

BALANCE_CLASSES_SHOWN = 20
# A forecast's linearity is measured in its backtest (linear on lags against boosting on lags,
# tuners/forecast), where windows keep the future out; the table probe's random folds would not.
FORECAST_LINEARITY = Linearity(None, None, None, metric="mase", note="measured by backtest in the forecast stage: "
                               "linear on lags against boosting on lags")


def profile(dataset: Dataset, seed: int = 0, task: Task | None = None, time: str | None = None,
            series: str | None = None) -> Profile:
    """`task` overrides the detected task (classification: binary or multiclass by the classes);
    `time` and `series` name the forecast's columns when detection needs help (they ask for a
    forecast: a table that is no regular series is then refused, not read as a table)."""
    dataset, dropped = drop_missing_targets(_without_target(dataset) if task == Task.CLUSTERING else dataset)
    frame = dataset.frame
    if dataset.target is not None and frame.shape[1] < 2 and dataset.images is None:
        raise InputError(f"{dataset.source}: only the target column {dataset.target!r}; add feature columns to learn from.")
    if len(frame) < MIN_ROWS:
        raise InputError(
            f"{dataset.source}: {len(frame)} usable rows; at least {MIN_ROWS} are needed to hold out a test split "
            "and cross-validate. Add rows."
        )
    _check_magnitudes(frame, dataset.source)
    asked, shape = task, _series_shape(dataset, task, time, series)
    task = Task.FORECAST if shape is not None else _task(dataset, asked)
    sample = frame if len(frame) <= PROFILE_SAMPLE_ROWS else frame.sample(PROFILE_SAMPLE_ROWS, random_state=seed)
    columns = profile_columns(frame, sample)
    if dataset.images is not None:
        columns = tuple(c for c in columns if c.name == dataset.target)  # the file paths are not features
    if task is not Task.FORECAST:  # a series' own history is what it learns from; its time column is no feature
        _check_features(columns, dataset)
    detection = detect_modality(dataset, columns)
    samples = detection.sequence.series if detection.sequence is not None else len(frame)
    balance, minority = _class_balance(dataset, detection.sequence, task)
    notes = list(dataset.notes) + _forecast_notes(shape, asked)
    if dropped:
        notes.append(f"{dropped} row(s) without a target value were left out")
    if minority is not None and minority * samples < 2:
        notes.append("a class has a single example: it cannot appear in both training and test splits")
    kind_counts: dict[str, int] = {}
    for column in columns:
        if column.name != dataset.target:
            kind_counts[column.kind.value] = kind_counts.get(column.kind.value, 0) + 1
    return Profile(
        source=dataset.source,
        format=dataset.format,
        rows=len(frame),
        columns=frame.shape[1] if dataset.images is None else int(np.prod(detection.image_shape)),
        samples=samples,
        target=dataset.target,
        target_reason=dataset.target_reason,
        task=task,
        classes=len(balance) if task.is_classification else 0,
        class_balance=dict(list(balance.items())[:BALANCE_CLASSES_SHOWN]),
        minority_fraction=minority,
        modality=detection.modality,
        modality_reason=detection.reason,
        column_profiles=columns,
        kind_counts=kind_counts,
        missing_fraction=float(np.mean([c.missing_fraction for c in columns])) if columns else 0.0,
        linearity=FORECAST_LINEARITY if shape is not None else probe_linearity(dataset, detection, columns, task, seed),
        image_shape=detection.image_shape,
        sequence=detection.sequence,
        sequence_length=_sequence_length(detection.sequence),
        dropped_target_missing=dropped,
        notes=tuple(notes),
        forecast=shape,
    )


def _forecast_notes(shape: SeriesShape | None, asked: Task | None) -> list[str]:
    """What a forecast reads and leaves out, and how to read the rows as a table instead."""
    if shape is None:
        return []
    notes = [] if asked == Task.FORECAST else [
        f"Read as a forecast: {shape.time_column!r} steps regularly ({shape.frequency}); --task regression reads the "
        "rows as a table instead."]
    if shape.covariates:
        notes.append(f"{len(shape.covariates)} covariate column(s) ({_listed([repr(c) for c in shape.covariates])}): the "
                     "lag models that forecast every step at once (linear, MLP) read their values up to each "
                     "forecast's start, never after it; the backtest decides whether they help.")
    if shape.covariates_left_out:
        notes.append(f"The forecast leaves {len(shape.covariates_left_out)} other column(s) out: "
                     f"{_listed(list(shape.covariates_left_out))}.")
    return notes


# XGBoost and the torch nets train on 32-bit floats: a larger finite value becomes infinite there.
FLOAT32_MAX = float(np.finfo(np.float32).max)


def _check_features(columns: tuple[ColumnProfile, ...], dataset: Dataset) -> None:
    """Refuse a table with nothing to learn from: every feature column empty, or each one a single
    value in every row or an identifier (a model would learn the target's mean or majority class)."""
    features = [c for c in columns if c.name != dataset.target]
    if dataset.images is not None or not features:
        return
    names = _listed([c.name for c in features])
    if all(c.missing_fraction >= 1.0 for c in features):
        raise InputError(f"{dataset.source}: every feature column is empty ({names}): "
                         "nothing to learn from. Fill them in, or give a file with feature values.")
    if all(_uninformative(c) for c in features):
        raise InputError(f"{dataset.source}: no feature column varies ({names}: each holds one value in every row, "
                         "or is an identifier): nothing to learn from. Give columns whose values differ between rows.")


def _uninformative(column: ColumnProfile) -> bool:
    """Empty, an identifier, or one value: a category's gaps are a category of their own and tell rows
    apart; a number's are filled with the median (advisor/features.py) and do not."""
    gaps_count = column.kind in (ColumnKind.CATEGORICAL, ColumnKind.TEXT) and column.missing_fraction > 0
    return (column.missing_fraction >= 1.0 or column.kind is ColumnKind.ID_LIKE
            or (column.distinct <= 1 and not gaps_count))


def _check_magnitudes(frame: pd.DataFrame, source: str) -> None:
    """Refuse numbers that the models cannot hold (a 1e300 column failed every probe fit, reported
    as an internal failure), naming the column and what to do."""
    for name in frame.select_dtypes(include="number").columns:  # a column at a time: no copy of the whole table
        values = np.abs(frame[name].to_numpy(dtype=np.float64, na_value=np.nan))
        largest = float(np.max(values[np.isfinite(values)], initial=0.0))
        if largest > FLOAT32_MAX:
            raise InputError(f"{source}: column {name!r} holds values as large as {largest:.3g}, beyond the "
                             f"{FLOAT32_MAX:.3g} that 32-bit floats (what the models train on) can hold. Rescale "
                             "it (e.g. divide by a power of ten) or drop it.")


def _listed(names: list[str], shown: int = 5) -> str:
    return ", ".join(names[:shown]) + (" ..." if len(names) > shown else "")


def _without_target(dataset: Dataset) -> Dataset:
    """--task clustering: the target column is left out."""
    if dataset.target is None:
        return dataset
    return dataclasses.replace(dataset, frame=dataset.frame.drop(columns=[dataset.target]), target=None,
                               target_reason="--task clustering: no target",
                               notes=(*dataset.notes, f"--task clustering left the column {dataset.target!r} out"))


def _series_shape(dataset: Dataset, task: Task | None, time: str | None, series: str | None) -> SeriesShape | None:
    """The forecast's series when asked for (--task forecast, --time, --series) or, unasked, when the
    table is one (a time column with regular steps and a numeric target); else None."""
    asked = task == Task.FORECAST or time is not None or series is not None
    if task not in (None, Task.FORECAST) or dataset.images is not None or dataset.target is None:
        if asked and task in (None, Task.FORECAST):
            raise InputError(f"{dataset.source}: forecasting needs a target column; name it with --target.")
        return None
    if not asked and _class_like(dataset.frame[dataset.target]):
        return None  # a few whole-number values over time are classes, unless --task forecast says otherwise
    return detect(dataset.frame, dataset.target, time, series, required=asked)


def _class_like(target: pd.Series) -> bool:
    if not pd.api.types.is_numeric_dtype(target) or pd.api.types.is_bool_dtype(target):
        return True
    values = target.dropna().to_numpy(dtype=np.float64)
    return bool(np.all(np.floor(values) == values)) and target.nunique() <= MAX_CLASSES_FOR_INTEGER_TARGET


def drop_missing_targets(dataset: Dataset) -> tuple[Dataset, int]:
    """The rows that can be learned from: those with a (finite) target value. Idempotent."""
    if dataset.target is None:
        return dataset, 0
    target = dataset.frame[dataset.target]
    missing = target.isna()
    if pd.api.types.is_float_dtype(target):
        missing |= ~np.isfinite(target.to_numpy(dtype=np.float64, na_value=np.nan))
    if not missing.any():
        return dataset, 0
    if missing.all():
        raise InputError(f"{dataset.source}: the target {dataset.target!r} is empty in every row. Pick another --target.")
    kept = dataset.frame.loc[~missing].reset_index(drop=True)
    return dataclasses.replace(dataset, frame=kept), int(missing.sum())


def _task(dataset: Dataset, asked: Task | None = None) -> Task:
    """The task the target implies; `asked` (--task) overrides it where the target allows."""
    if dataset.target is None or asked == Task.CLUSTERING:
        return Task.CLUSTERING
    target = dataset.frame[dataset.target]
    distinct = target.nunique()
    if distinct < 2:
        value = target.iloc[0]
        raise InputError(
            f"{dataset.source}: the target {dataset.target!r} has the same value ({value!r}) in every row: "
            "nothing to learn. Pick another --target."
        )
    if asked in (Task.BINARY, Task.MULTICLASS):
        if target.value_counts().median() < 2:
            raise InputError(f"{dataset.source}: --task classification, but most values of {dataset.target!r} occur "
                             f"once ({distinct:,} distinct in {len(target):,} rows): no class to learn from. "
                             "Use --task regression.")
        return Task.BINARY if distinct == 2 else Task.MULTICLASS
    if pd.api.types.is_bool_dtype(target) or not pd.api.types.is_numeric_dtype(target):
        if target.value_counts().max() < 2:
            raise InputError(f"{dataset.source}: the target {dataset.target!r} has a different value in every row "
                             f"({distinct:,} classes, each once): nothing to generalise from. If it is an "
                             "identifier, pick another --target.")
        if asked == Task.REGRESSION:
            raise InputError(f"{dataset.source}: --task regression needs a numeric target; {dataset.target!r} is not "
                             "numeric. Pick another --target or --task classification.")
        return Task.BINARY if distinct == 2 else Task.MULTICLASS
    if asked == Task.REGRESSION:
        return Task.REGRESSION
    values = target.to_numpy(dtype=np.float64)
    integral = bool(np.all(np.floor(values) == values))
    if integral and distinct <= MAX_CLASSES_FOR_INTEGER_TARGET:
        return Task.BINARY if distinct == 2 else Task.MULTICLASS
    return Task.REGRESSION


def _sequence_length(sequence) -> dict[str, float] | None:
    if sequence is None:
        return None
    return {"min": sequence.min_length, "median": sequence.median_length, "max": sequence.max_length}


def _class_balance(dataset: Dataset, sequence, task: Task) -> tuple[dict[str, float], float | None]:
    if not task.is_classification:
        return {}, None
    labels = dataset.frame[dataset.target]
    if sequence is not None and sequence.layout == "long":  # one label per series: count series, not steps
        labels = dataset.frame.groupby(sequence.id_column, sort=False)[dataset.target].first()
    shares = labels.astype(str).value_counts(normalize=True)
    return {str(k): round(float(v), 4) for k, v in shares.items()}, round(float(shares.min()), 4)
