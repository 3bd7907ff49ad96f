"""Modality detection: image, sequence, text or tabular, each with the reason it was chosen. Pure.

Detectors are tried in order; the first that recognises the data wins. A new modality is a new
detector in DETECTORS, not a new branch elsewhere.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Callable

import numpy as np

from advisor.loading import Dataset
from advisor.sequences import wide_lengths, wide_series_columns
from advisor.thresholds import (
    PIXEL_MAX_VALUE,
    PIXEL_MIN_SIDE,
    PIXEL_NAME_SHARE,
    SEQUENCE_LABEL_CONSTANT_SHARE,
    SEQUENCE_MIN_MEDIAN_LENGTH,
    SEQUENCE_MIN_SERIES,
    TEXT_MAX_SIDE_COLUMNS,
)
from advisor.types import ColumnKind, ColumnProfile, Modality, SequenceShape

PIXEL_NAME = re.compile(r"^(pixel|pix|px|p)?[\s_.-]?\d+([\s_x.-]\d+)*$", re.IGNORECASE)
SERIES_ID_NAME = re.compile(
    r"(^|[_\s.-])(id|series|sequence|seq|subject|sample|case|instance|unit|entity|sensor|signal|trial|track|session)"
    r"([_\s.-]?id)?$",
    re.IGNORECASE,
)
TIME_NAME = re.compile(
    r"^(t|time|times|timestep|time_step|step|steps|timestamp|date|datetime|tick|frame|position|pos|"
    r"order|idx|index|hour|minute|second|seconds|ms|day|cycle)$",
    re.IGNORECASE,
)


@dataclasses.dataclass(frozen=True)
class Detection:
    modality: Modality
    reason: str
    image_shape: tuple[int, ...] | None = None
    sequence: SequenceShape | None = None
    pixel_columns: tuple[str, ...] = ()
    text_columns: tuple[str, ...] = ()


Detector = Callable[[Dataset, tuple[ColumnProfile, ...]], "Detection | None"]


def detect_modality(dataset: Dataset, columns: tuple[ColumnProfile, ...]) -> Detection:
    for detector in DETECTORS:
        found = detector(dataset, columns)
        if found is not None:
            return found
    return Detection(Modality.TABULAR, "rows of named columns with no image, sequence or free-text structure")


def _features(dataset: Dataset, columns: tuple[ColumnProfile, ...]) -> list[ColumnProfile]:
    return [c for c in columns if c.name != dataset.target]


def detect_image_folder(dataset: Dataset, columns: tuple[ColumnProfile, ...]) -> Detection | None:
    if dataset.images is None:
        return None
    height, width, channels = dataset.images.shape
    varied = f"; {dataset.images.distinct_shapes} different sizes seen" if dataset.images.distinct_shapes > 1 else ""
    reason = f"a folder of {len(dataset.frame)} image files in one subfolder per class, mostly {height}x{width}x{channels}{varied}"
    return Detection(Modality.IMAGE, reason, image_shape=(height, width, channels))


def pixel_columns(columns: tuple[ColumnProfile, ...], target: str | None) -> list[str]:
    """Numeric feature columns named like pixels (pixel0, pixel_0_0, px12, 0, ...), in file order."""
    return [c.name for c in columns
            if c.name != target and c.kind == ColumnKind.NUMERIC and PIXEL_NAME.match(str(c.name).strip())]


def detect_pixel_columns(dataset: Dataset, columns: tuple[ColumnProfile, ...]) -> Detection | None:
    features = _features(dataset, columns)
    pixels = pixel_columns(columns, dataset.target)
    if not features or len(pixels) < PIXEL_NAME_SHARE * len(features):
        return None
    shape = _square_image_shape(len(pixels))
    if dataset.image_shape is not None and int(np.prod(dataset.image_shape)) == len(pixels):
        shape = tuple(dataset.image_shape)  # the array said so (.npz): any aspect ratio
    if shape is None:
        return None
    values = dataset.frame[pixels].to_numpy(dtype=np.float64, na_value=np.nan)
    low, high = np.nanmin(values), np.nanmax(values)
    if not (low >= 0 and high <= PIXEL_MAX_VALUE):
        return None
    reason = (
        f"{len(pixels)} numeric pixel-named columns ({pixels[0]}..{pixels[-1]}) form a {shape[0]}x{shape[1]}"
        f"{'x3' if shape[2] == 3 else ''} image with values in [{low:g}, {high:g}]"
    )
    return Detection(Modality.IMAGE, reason, image_shape=shape, pixel_columns=tuple(pixels))


def _square_image_shape(count: int) -> tuple[int, int, int] | None:
    for channels in (1, 3):
        if count % channels:
            continue
        side = math.isqrt(count // channels)
        if side * side * channels == count and side >= PIXEL_MIN_SIDE:
            return (side, side, channels)
    return None


def detect_long_sequence(dataset: Dataset, columns: tuple[ColumnProfile, ...]) -> Detection | None:
    features = _features(dataset, columns)
    ids = [c for c in features if SERIES_ID_NAME.search(str(c.name).strip()) and c.kind != ColumnKind.TEXT]
    times = [c for c in features if c.kind == ColumnKind.DATETIME or
             (c.kind in (ColumnKind.NUMERIC, ColumnKind.ID_LIKE) and TIME_NAME.match(str(c.name).strip()))]
    for id_column in ids:
        for time_column in times:
            if time_column.name != id_column.name:
                found = _check_long_format(dataset, features, id_column.name, time_column.name)
                if found is not None:
                    return found
    return None


def _check_long_format(dataset: Dataset, features: list[ColumnProfile], id_name: str, time_name: str) -> Detection | None:
    frame = dataset.frame
    values = tuple(c.name for c in features if c.kind == ColumnKind.NUMERIC and c.name not in (id_name, time_name))
    if not values:
        return None
    lengths = frame.groupby(id_name, sort=False, dropna=True).size()
    if len(lengths) < SEQUENCE_MIN_SERIES or lengths.median() < SEQUENCE_MIN_MEDIAN_LENGTH:
        return None
    if frame.duplicated(subset=[id_name, time_name]).mean() > 0.01:
        return None  # several rows per (series, step): not one ordered series per id
    if dataset.target is not None:
        labels_per_series = frame.groupby(id_name, sort=False, dropna=True)[dataset.target].nunique(dropna=True)
        if (labels_per_series <= 1).mean() < SEQUENCE_LABEL_CONSTANT_SHARE:
            return None  # the label changes along a series: a per-step target, not one label per series
    shape = SequenceShape(
        id_column=id_name,
        time_column=time_name,
        value_columns=values,
        series=int(len(lengths)),
        min_length=int(lengths.min()),
        median_length=float(lengths.median()),
        max_length=int(lengths.max()),
    )
    reason = (
        f"long format: {shape.series} series keyed by {id_name!r}, ordered by {time_name!r}, "
        f"{shape.min_length}-{shape.max_length} steps (median {shape.median_length:g}) of {len(values)} value column(s)"
        + (", one label per series" if dataset.target is not None else "")
    )
    return Detection(Modality.SEQUENCE, reason, sequence=shape)


def detect_wide_sequence(dataset: Dataset, columns: tuple[ColumnProfile, ...]) -> Detection | None:
    numeric = [c.name for c in _features(dataset, columns) if c.kind == ColumnKind.NUMERIC]
    found = wide_series_columns(dataset.frame, numeric) if numeric else None
    if found is None or len(dataset.frame) < SEQUENCE_MIN_SERIES:
        return None
    steps, reason = found
    lengths = wide_lengths(dataset.frame[steps].to_numpy(dtype=np.float64, na_value=np.nan))
    shape = SequenceShape(
        id_column="", time_column="", value_columns=tuple(steps), series=len(dataset.frame),
        min_length=int(lengths.min()), median_length=float(np.median(lengths)), max_length=int(lengths.max()),
        layout="wide",
    )
    return Detection(Modality.SEQUENCE, reason, sequence=shape)


def detect_text(dataset: Dataset, columns: tuple[ColumnProfile, ...]) -> Detection | None:
    features = _features(dataset, columns)
    text = [c for c in features if c.kind == ColumnKind.TEXT]
    side = [c for c in features if c.kind not in (ColumnKind.TEXT, ColumnKind.ID_LIKE)]
    if not text or len(side) > TEXT_MAX_SIDE_COLUMNS:
        return None
    words = ", ".join(f"{c.name!r} ({c.note})" for c in text)
    return Detection(Modality.TEXT, f"free-text column(s) {words} carry the content", text_columns=tuple(c.name for c in text))


DETECTORS: tuple[Detector, ...] = (
    detect_image_folder, detect_pixel_columns, detect_long_sequence, detect_wide_sequence, detect_text,
)

