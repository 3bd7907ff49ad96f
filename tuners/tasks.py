"""The tasks a run can have, by name: the metric it is tuned and tested by (and why, in words for the
report), how its target is encoded, and how its samples are split into the test set and the
validation folds. tuners/data.py asks the entry and never branches on the task; a new task
(forecasting: time-ordered splits and a scale-free error) is a module and one line in TASKS."""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

from advisor.types import Profile, Task

TEST_FRACTION = 0.2
# Up to this many training rows, k-fold CV; above it one validation split is both enough and
# affordable (seed 000: 'optimal hyperparameters are found empirically by cross-validation').
CV_MAX_ROWS = 20_000
CV_FOLDS = 5
VALIDATION_FRACTION = 0.2
# Balanced accuracy replaces accuracy when the rarest class has less than this share of an even
# split (with 10 classes: under 5% of rows; with 2: under 25%).
IMBALANCED_SHARE_OF_EVEN = 0.5

Splits = tuple[tuple[np.ndarray, np.ndarray], ...]


@dataclasses.dataclass(frozen=True)
class TaskDef:
    metric: Callable[[Profile], str]  # the metric the run is tuned and tested by
    metric_reason: Callable[[Profile], str]  # why, and what it means for the models (tuning.metric_reason)
    encode: Callable[[pd.Series], tuple[np.ndarray, tuple[str, ...]]]  # target -> (y, class names)
    stratified: bool = False  # the test split and the folds keep each class's share
    # The pipeline's tune stage for the task: "table" (samples split at random: tuners.tune) or
    # "series" (time-ordered backtest windows: tuners.forecast.tune_forecast).
    stage: str = "table"

    def test_split(self, samples: int, y: np.ndarray | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """(train, test) sample indices: a seeded 20%, stratified where the task is and the classes allow."""
        stratify = y if self.stratified and _can_stratify(y, TEST_FRACTION) else None
        train, test = train_test_split(np.arange(samples), test_size=TEST_FRACTION, random_state=seed,
                                       stratify=stratify)
        return np.sort(train), np.sort(test)

    def validation_splits(self, rows: int, y: np.ndarray | None, seed: int, folds: int = CV_FOLDS) -> Splits:
        """k shuffled folds (stratified where every class fills them), or one split above CV_MAX_ROWS."""
        indices = np.arange(rows)
        if rows > CV_MAX_ROWS:
            stratify = y if self.stratified and _can_stratify(y, VALIDATION_FRACTION) else None
            train, valid = train_test_split(indices, test_size=VALIDATION_FRACTION, random_state=seed,
                                            stratify=stratify)
            return ((np.sort(train), np.sort(valid)),)
        if self.stratified and np.bincount(y).min() >= folds:
            found = StratifiedKFold(folds, shuffle=True, random_state=seed).split(indices, y)
        else:
            found = KFold(folds, shuffle=True, random_state=seed).split(indices)
        return tuple((train, valid) for train, valid in found)


def _can_stratify(y: np.ndarray, fraction: float) -> bool:
    counts = np.bincount(y)
    return counts[counts > 0].min() >= 2 and fraction * len(y) >= len(counts)


def _class_codes(target: pd.Series) -> tuple[np.ndarray, tuple[str, ...]]:
    """Class labels as codes into the sorted class names."""
    labels = target.astype(str).to_numpy(dtype=object)
    classes, codes = np.unique(labels, return_inverse=True)
    return codes.astype(np.int64), tuple(str(c) for c in classes)


def _floats(target: pd.Series) -> tuple[np.ndarray, tuple[str, ...]]:
    return target.to_numpy(dtype=np.float64), ()


def _class_metric(profile: Profile) -> str:
    even = 1.0 / max(profile.classes, 2)
    imbalanced = profile.minority_fraction is not None and profile.minority_fraction < IMBALANCED_SHARE_OF_EVEN * even
    return "balanced_accuracy" if imbalanced else "accuracy"


def _class_reason(profile: Profile) -> str:
    even = 1.0 / max(profile.classes, 2)
    if _class_metric(profile) == "accuracy" and profile.minority_fraction is None:
        return "accuracy, each prediction the most probable class"
    if _class_metric(profile) == "accuracy":
        return (f"the classes are near even (the smallest is {profile.minority_fraction:.0%} of rows, an even share "
                f"{even:.0%}): accuracy, each prediction the most probable class")
    return (f"the smallest class is {profile.minority_fraction:.0%} of rows, under half of an even share ({even:.0%}), "
            "so plain accuracy would reward always predicting the majority: balanced accuracy, the mean recall "
            "over the classes. Whether to weight the classes by inverse frequency is searched (class weights, naive "
            "Bayes priors, boosting's sample weights, the nets' weighted loss); predictions stay the most probable "
            "class (a 0.5 threshold for two classes): the weighting moves the decision boundary, no threshold is tuned")


CLASSIFICATION = TaskDef(_class_metric, _class_reason, _class_codes, stratified=True)
REGRESSION = TaskDef(lambda profile: "r2", lambda profile: (
    "a numeric target: R², the share of its variance the model explains (1 is perfect, 0 is the mean)"), _floats)
CLUSTERING = TaskDef(lambda profile: "silhouette",
                     lambda profile: "no target: clusterings are compared by silhouette on held-out rows", _class_codes)

FORECAST = TaskDef(lambda profile: "mase", lambda profile: (
    "a forecast: MASE over the last steps of every series, scaled by each series' in-sample seasonal differences "
    "(M4); lower is better"), _floats, stage="series")

TASKS: dict[Task, TaskDef] = {Task.BINARY: CLASSIFICATION, Task.MULTICLASS: CLASSIFICATION,
                              Task.REGRESSION: REGRESSION, Task.CLUSTERING: CLUSTERING, Task.FORECAST: FORECAST}
