"""What tuning works on: features and encoded labels, the held-out test split and the validation
folds, the last three as the task's entry gives them (tuners/tasks.py: k-fold for small data, one
validation split for large data; seed 000: 'optimal hyperparameters are found empirically by
cross-validation')."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from advisor.errors import InputError
from advisor.features import FeatureSpec, feature_frame
from advisor.modality import pixel_columns
from advisor.sequences import sequence_arrays, thin
from advisor.types import Modality, Profile, Task
from tuners.tasks import CV_FOLDS, TASKS, Splits

# Longer series are thinned (every k-th step kept) to at most this many steps: an RNN's cost grows
# with the steps, and a CPU trains a few hundred steps per series in seconds.
SEQUENCE_MAX_STEPS = 500


@dataclasses.dataclass(frozen=True, eq=False)
class Problem:
    """Everything a family needs to declare its space and build its model, with the data itself."""

    task: Task
    spec: FeatureSpec
    classes: tuple[str, ...]  # label of each encoded class index; empty for regression/clustering
    metric: str  # accuracy, balanced_accuracy, r2 or silhouette
    x_train: pd.DataFrame
    y_train: np.ndarray | None
    x_test: pd.DataFrame
    y_test: np.ndarray | None
    splits: tuple[tuple[np.ndarray, np.ndarray], ...]  # (train, validation) row indices into x_train
    seed: int
    test_rows: np.ndarray  # positions of the test rows in the frame given to prepare()
    image: dict | None = None  # for images: {"shape": [c, h, w], "scale", "pixel_columns"}; x is then an array
    # For sequences: {"layout", "id_column", "time_column", "value_columns", "stride"}; x is then
    # (series, steps, channels + 1), the last channel 1 on real steps and 0 on padding.
    sequence: dict | None = None

    @property
    def n_outputs(self) -> int:
        return len(self.classes) if self.classes else 1

    @property
    def validation(self) -> str:
        return f"{len(self.splits)}-fold cross-validation" if len(self.splits) > 1 else "one validation split"


# What a family can train on (FamilyDef.inputs), in words for messages.
INPUTS = {"table": "a table of feature columns", "image": "images", "sequence": "sequences"}
# What to do when the data gives only one kind of array and the family wants a table.
TABLE_HINTS = {"image": "or a pixel CSV for flat models",
               "sequence": "or give the series in wide format (one row per series) for flat models"}
ONLY_ARRAYS = {"image": "an image folder trains", "sequence": "sequences in long format train"}


def inputs_of(profile: Profile) -> tuple[str, ...]:
    """The inputs this data can give a model: a table of feature columns, image or sequence arrays.
    An image folder and long-format sequences give arrays only."""
    if profile.modality == Modality.IMAGE:
        return ("image",) if profile.format == "image_folder" else ("table", "image")
    if profile.modality == Modality.SEQUENCE:
        return ("sequence",) if profile.sequence.layout == "long" else ("table", "sequence")
    return ("table",)


def check_inputs(family: str, wants: str, profile: Profile, takers: dict[str, list[str]]) -> None:
    """A clear line when `family` (training on `wants`) cannot train on this data; `takers` names,
    for each input kind, the families that train on it."""
    given = inputs_of(profile)
    if wants in given:
        return
    if wants != "table":
        raise InputError(f"the {family} family needs {INPUTS[wants]}; this data is {profile.modality.value}. "
                         "Choose another --family.")
    only = given[0]
    names = " or ".join(takers.get(only, []))
    raise InputError(f"{ONLY_ARRAYS[only]} only the {names} family, not {family}. Use --family "
                     f"{takers.get(only, ['another'])[0]}, {TABLE_HINTS[only]}.")


def prepare(frame: pd.DataFrame, profile: Profile, seed: int, inputs: str = "table",
            test_rows: np.ndarray | None = None, images: np.ndarray | None = None) -> Problem:
    """`inputs`: what the model trains on (FamilyDef.inputs): a table of feature columns, or image
    or sequence arrays. Samples are rows, images or series; the test split is drawn over samples,
    unless `test_rows` (rows of `frame`: the user's own test file, appended) name it. `images`: an
    image folder's images as loading decoded them (a row of `frame` each); pixel tables hold theirs."""
    image = sequence = None
    spec = FeatureSpec()
    row_sample = None  # for long-format sequences: the series each row of the frame belongs to
    if inputs == "sequence":
        x, y, classes, sequence, row_sample = sequence_inputs(frame, profile)
    elif inputs == "image":
        x, image = image_arrays(frame, profile, images)
        y, classes = encode_target(frame, profile)
    else:
        spec = FeatureSpec.from_profiles(profile.column_profiles, profile.target)
        x = feature_frame(frame, spec)
        y, classes = encode_target(frame, profile)
    train, test = _test_split(len(x), y, profile, seed, test_rows, row_sample)
    y_train = None if y is None else y[train]
    return Problem(
        task=profile.task,
        spec=spec,
        classes=classes,
        metric=TASKS[profile.task].metric(profile),
        x_train=take(x, train),
        y_train=y_train,
        x_test=take(x, test),
        y_test=None if y is None else y[test],
        splits=validation_splits(len(train), y_train, profile.task, seed),
        seed=seed,
        test_rows=test if row_sample is None else np.flatnonzero(np.isin(row_sample, test)),
        image=image,
        sequence=sequence,
    )


def _test_split(samples: int, y, profile: Profile, seed: int, test_rows, row_sample) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) sample indices: the given test rows' samples, or a seeded stratified 20%."""
    indices = np.arange(samples)
    if test_rows is not None:
        test = np.unique(row_sample[test_rows]) if row_sample is not None else np.asarray(test_rows)
        return np.setdiff1d(indices, test), np.sort(test)
    return TASKS[profile.task].test_split(samples, y, seed)


def sequence_inputs(frame: pd.DataFrame, profile: Profile):
    """(x, y, classes, sequence info, the series of each row) for a sequence model."""
    found, stride = thin(sequence_arrays(frame, profile.sequence, profile.target), SEQUENCE_MAX_STEPS)
    y, classes = encode_labels(found.labels, profile.task)
    shape = profile.sequence
    info = {"layout": shape.layout, "id_column": shape.id_column, "time_column": shape.time_column,
            "value_columns": list(shape.value_columns), "stride": stride}
    return found.with_mask(), y, classes, info, found.row_series


def take(x, rows: np.ndarray):
    """Rows of a feature frame or of an image array."""
    return x.iloc[rows].reset_index(drop=True) if isinstance(x, pd.DataFrame) else x[rows]


def image_arrays(frame: pd.DataFrame, profile: Profile, images: np.ndarray | None = None) -> tuple[np.ndarray, dict]:
    """Images as float32 (n, channels, height, width) in [0, 1], from an image folder's decoded
    images (uint8 (n, height, width, channels), from loading) or a pixel table's columns."""
    height, width, channels = profile.image_shape
    if images is not None:
        _, height, width, channels = images.shape
        pixels, scale, columns = images.astype(np.float32), 255.0, None
    else:
        columns = pixel_columns(profile.column_profiles, profile.target)
        pixels = frame[columns].to_numpy(dtype=np.float32, na_value=0.0).reshape(len(frame), height, width, channels)
        scale = float(max(1.0, np.nanmax(pixels)))  # 16 for scikit-learn's digits, 255 for MNIST
    arrays = np.ascontiguousarray((pixels / scale).transpose(0, 3, 1, 2))
    return arrays, {"shape": [channels, height, width], "scale": scale, "pixel_columns": columns}


def encode_target(frame: pd.DataFrame, profile: Profile) -> tuple[np.ndarray | None, tuple[str, ...]]:
    if profile.target is None:
        return None, ()
    return encode_labels(frame[profile.target], profile.task)


def encode_labels(target: pd.Series | None, task: Task) -> tuple[np.ndarray | None, tuple[str, ...]]:
    """The target as the task encodes it (regression: floats; classes: codes into the sorted names)."""
    if target is None:
        return None, ()
    return TASKS[task].encode(target)


def metric_reason(profile: Profile) -> str:
    """Why the run is scored by its metric, and what that means for the models (result.json's
    tuning.metric_reason, shown in the report)."""
    return TASKS[profile.task].metric_reason(profile)


def validation_splits(rows: int, y: np.ndarray | None, task: Task, seed: int, folds: int = CV_FOLDS) -> Splits:
    return TASKS[task].validation_splits(rows, y, seed, folds)


def subset(problem: Problem, seed: int, share: float, smallest: int, largest: int, folds: int) -> Problem:
    """A seeded random share of the training samples (at least `smallest`, at most `largest`; all of
    them when there are fewer), with `folds` validation folds of its own; the test rows are kept.
    The same seed draws the same samples from any family's problem of the same data (the duel's and
    the family race's subsets: 'try both, only on a random subset of the data', seed 001)."""
    rng = np.random.default_rng(seed)
    total = len(problem.y_train) if problem.y_train is not None else len(problem.x_train)
    size = min(total, max(smallest, min(largest, int(total * share))))
    rows = np.sort(rng.choice(total, size, replace=False))
    y = None if problem.y_train is None else problem.y_train[rows]
    return dataclasses.replace(problem, x_train=take(problem.x_train, rows), y_train=y,
                               splits=validation_splits(size, y, problem.task, seed, folds))
