"""Sequences as arrays: a long or wide table -> one padded (series, steps, channels) array with
each series' length, and the wide-format detector's test that columns are an ordered series. Pure.

Long format: one row per (series, step). Series of unequal length are padded at the end; their
lengths travel with them so models can mask the padding (an RNN packs it away).
Wide format: one row per series, one column per step; a series shorter than the row ends at its
first trailing gap (UCR's convention for unequal lengths in wide files).
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd

from advisor.thresholds import (
    SEQUENCE_WIDE_MIN_NEIGHBOUR_CORRELATION,
    SEQUENCE_WIDE_MIN_STEPS,
    SEQUENCE_WIDE_NEIGHBOUR_MARGIN,
    SEQUENCE_WIDE_SAMPLE_ROWS,
)
from advisor.types import SequenceShape

NUMBERED_NAME = re.compile(r"^(?P<prefix>.*?)(?P<number>\d+)$")


@dataclasses.dataclass(frozen=True, eq=False)
class SequenceArrays:
    values: np.ndarray  # (series, steps, channels) float32, padded with 0 after each series' end; NaN inside
    lengths: np.ndarray  # (series,) int64, at least 1
    labels: pd.Series | None  # one target value per series, or None without a target
    series_ids: np.ndarray  # (series,) the id of each series (its row number in wide format)
    row_series: np.ndarray  # (rows of the frame,) the series each row belongs to, -1 for none

    def with_mask(self) -> np.ndarray:
        """(series, steps, channels + 1): the values with a last channel that is 1 on real steps."""
        steps = self.values.shape[1]
        mask = (np.arange(steps)[None, :] < self.lengths[:, None]).astype(np.float32)
        return np.concatenate([self.values, mask[:, :, None]], axis=2)


def sequence_arrays(frame: pd.DataFrame, shape: SequenceShape, target: str | None = None) -> SequenceArrays:
    if shape.layout == "wide":
        return _wide_arrays(frame, shape, target)
    return _long_arrays(frame, shape, target)


def _long_arrays(frame: pd.DataFrame, shape: SequenceShape, target: str | None) -> SequenceArrays:
    frame = frame.reset_index(drop=True)
    keyed = frame[frame[shape.id_column].notna()]
    ordered = keyed.sort_values([shape.id_column, shape.time_column], kind="stable")
    codes, ids = pd.factorize(ordered[shape.id_column], sort=False)
    lengths = np.bincount(codes, minlength=len(ids)).astype(np.int64)
    position = ordered.groupby(codes, sort=False).cumcount().to_numpy()
    values = np.zeros((len(ids), int(lengths.max()), len(shape.value_columns)), dtype=np.float32)
    values[codes, position] = ordered[list(shape.value_columns)].to_numpy(dtype=np.float32, na_value=np.nan)
    row_series = np.full(len(frame), -1, dtype=np.int64)
    row_series[ordered.index.to_numpy()] = codes
    labels = None
    if target is not None:
        labels = ordered[target].groupby(codes, sort=True).first().reset_index(drop=True)
    return SequenceArrays(values, lengths, labels, np.asarray(ids, dtype=object), row_series)


def _wide_arrays(frame: pd.DataFrame, shape: SequenceShape, target: str | None) -> SequenceArrays:
    frame = frame.reset_index(drop=True)
    values = frame[list(shape.value_columns)].to_numpy(dtype=np.float32, na_value=np.nan)
    lengths = wide_lengths(values)
    values = np.where(np.arange(values.shape[1])[None, :] < lengths[:, None], values, 0.0).astype(np.float32)
    labels = frame[target].reset_index(drop=True) if target is not None else None
    rows = np.arange(len(frame), dtype=np.int64)
    return SequenceArrays(values[:, :, None], lengths, labels, rows.astype(object), rows)


def wide_lengths(values: np.ndarray) -> np.ndarray:
    """Each wide row's length: one past its last present step (at least 1)."""
    present = ~np.isnan(values)
    last = values.shape[1] - np.argmax(present[:, ::-1], axis=1)
    return np.where(present.any(axis=1), last, 1).astype(np.int64)


def thin(arrays: SequenceArrays, max_steps: int) -> tuple[SequenceArrays, int]:
    """Keep every k-th step so no series is longer than `max_steps`; returns the arrays and k."""
    stride = max(1, -(-arrays.values.shape[1] // max_steps))
    return every_kth_step(arrays, stride), stride


def every_kth_step(arrays: SequenceArrays, stride: int) -> SequenceArrays:
    if stride == 1:
        return arrays
    return dataclasses.replace(arrays, values=arrays.values[:, ::stride], lengths=-(-arrays.lengths // stride))


def wide_series_columns(frame: pd.DataFrame, numeric_features: list[str]) -> tuple[list[str], str] | None:
    """Columns that read as the ordered steps of one series per row, and why; or None.

    Names must be one prefix with consecutive numbers, in file order (t1, t2, ... or 0, 1, ...),
    and neighbouring steps must move together clearly more than steps far apart: an ordered signal
    is smooth, a table of numbered but unrelated features is not."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for name in numeric_features:
        found = NUMBERED_NAME.match(str(name).strip())
        if found:
            groups.setdefault(found["prefix"], []).append((int(found["number"]), name))
    if not groups:
        return None
    prefix, members = max(groups.items(), key=lambda item: len(item[1]))
    numbers = [n for n, _ in members]
    consecutive = numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    if len(members) < SEQUENCE_WIDE_MIN_STEPS or not consecutive or len(members) < 0.9 * len(numeric_features):
        return None
    columns = [name for _, name in members]
    sample = frame[columns].head(SEQUENCE_WIDE_SAMPLE_ROWS).to_numpy(dtype=np.float64, na_value=np.nan)
    neighbour, distant = _neighbour_correlations(sample)
    if neighbour < SEQUENCE_WIDE_MIN_NEIGHBOUR_CORRELATION or neighbour < distant + SEQUENCE_WIDE_NEIGHBOUR_MARGIN:
        return None
    reason = (f"wide format: {len(columns)} numbered columns ({columns[0]}..{columns[-1]}) are the ordered steps of one "
              f"series per row (neighbouring steps correlate {neighbour:.2f}, steps half a series apart {distant:.2f})")
    return columns, reason


def _neighbour_correlations(values: np.ndarray) -> tuple[float, float]:
    """Median correlation of each step with the next, and with the step half the series away."""
    filled = np.where(np.isnan(values), np.nanmean(values, axis=0, keepdims=True), values)
    spread = filled.std(axis=0)
    z = (filled - filled.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    steps = z.shape[1]
    half = max(2, steps // 2)

    def median_corr(lag: int) -> float:
        return float(np.nanmedian(np.mean(z[:, :-lag] * z[:, lag:], axis=0)))

    return median_corr(1), abs(median_corr(half))
