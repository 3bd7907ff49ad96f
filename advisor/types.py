"""The typed values that flow between stages: load -> profile -> rules -> report.

Closed sets are Enums; plain strings appear only at the CLI, JSON and template edges.
Every dataclass here is frozen and serialisable with `to_jsonable`.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from typing import Any


class Task(str, enum.Enum):
    BINARY = "binary"
    MULTICLASS = "multiclass"
    REGRESSION = "regression"
    CLUSTERING = "clustering"
    FORECAST = "forecast"  # the next values of one series or many (advisor/timeseries.py detects it)

    @property
    def is_classification(self) -> bool:
        return self in (Task.BINARY, Task.MULTICLASS)


class Modality(str, enum.Enum):
    TABULAR = "tabular"
    IMAGE = "image"
    SEQUENCE = "sequence"
    TEXT = "text"


class ColumnKind(str, enum.Enum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    TEXT = "text"
    DATETIME = "datetime"
    ID_LIKE = "id-like"


class Family(str, enum.Enum):
    """Model families, in order of cost: ties in the ranking go to the earlier (cheaper) one."""

    LINEAR = "linear"
    NAIVE_BAYES = "naive_bayes"
    KMEANS = "kmeans"
    BOOSTING = "boosting"
    FOREST = "forest"  # extremely randomised trees: --family forest and a blend partner (rules/catalog.py)
    MLP = "mlp"
    CNN = "cnn"
    CONV1D = "conv1d"
    RNN = "rnn"


@dataclasses.dataclass(frozen=True)
class ColumnProfile:
    name: str
    kind: ColumnKind
    dtype: str
    missing_fraction: float
    distinct: int
    # Why the kind was chosen, e.g. "all values unique integers".
    note: str = ""


@dataclasses.dataclass(frozen=True)
class Linearity:
    """Result of the linearity probe: a linear model against a non-linear reference, cross-validated."""

    linear: bool | None
    linear_score: float | None
    nonlinear_score: float | None
    metric: str = ""
    linear_model: str = ""
    nonlinear_model: str = ""
    sample_rows: int = 0
    folds: int = 0
    tolerance: float = 0.0
    note: str = ""
    gap_se: float | None = None  # standard error of the per-fold (non-linear - linear) differences


@dataclasses.dataclass(frozen=True)
class SequenceShape:
    """Where the series are in a table. Long layout: one row per (series, step), keyed by
    `id_column`, ordered by `time_column`, with `value_columns` as channels. Wide layout: one row
    per series, `value_columns` are its steps in order (one channel; trailing gaps end a series)."""

    id_column: str
    time_column: str
    value_columns: tuple[str, ...]
    series: int
    min_length: int
    median_length: float
    max_length: int
    layout: str = "long"  # long or wide

    @property
    def channels(self) -> int:
        return len(self.value_columns) if self.layout == "long" else 1


@dataclasses.dataclass(frozen=True)
class SeriesShape:
    """A table read as series to forecast: its time column, the column telling series apart (None:
    one series), the step, and the season length confirmed by autocorrelation (1: none)."""

    time_column: str
    series_column: str | None  # None: one series
    frequency: str  # a pandas offset alias ("MS", "W-SAT", "QS-OCT"), or "step" for whole numbers
    season_length: int  # 1: no season
    season_reason: str
    series: int
    lengths: dict[str, int]  # {"min", "median", "max"} steps per series
    # The longest series' traits (advisor/series_traits.py): STL strengths 0..1, the ADF test's p-value.
    trend_strength: float | None = None
    seasonal_strength: float | None = None  # None without a season
    adf_pvalue: float | None = None
    stationary: bool | None = None
    # Numeric columns beside the target, read as covariates known in the past (their values up to a
    # forecast's origin, never after it); `covariates_left_out`: the other columns, each with why.
    covariates: tuple[str, ...] = ()
    covariates_left_out: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Profile:
    source: str
    format: str
    rows: int
    columns: int
    samples: int  # the unit a model learns from: rows, images, series or documents
    target: str | None
    target_reason: str
    task: Task
    classes: int
    class_balance: dict[str, float]
    minority_fraction: float | None
    modality: Modality
    modality_reason: str
    column_profiles: tuple[ColumnProfile, ...]
    kind_counts: dict[str, int]
    missing_fraction: float
    linearity: Linearity
    image_shape: tuple[int, ...] | None = None
    sequence: SequenceShape | None = None
    sequence_length: dict[str, float] | None = None  # {"min", "median", "max"} steps per series
    dropped_target_missing: int = 0
    notes: tuple[str, ...] = ()
    forecast: SeriesShape | None = None  # the series' shape when the task is forecasting

    @property
    def features(self) -> int:
        return sum(1 for c in self.column_profiles if c.name != self.target)


def to_jsonable(value: Any) -> Any:
    """Dataclasses, Enums, tuples and numpy scalars -> plain JSON values (NaN/inf -> None)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
