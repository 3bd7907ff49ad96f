"""What loading hands to profiling: the table (or image index) and which column is the target."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd


@dataclasses.dataclass(frozen=True, eq=False)
class ImageSample:
    """A bounded random sample of an image folder, decoded and shrunk for the profile's probe."""

    pixels: np.ndarray  # (n, side, side, channels), uint8
    labels: np.ndarray  # (n,), the class folder of each sampled image
    shape: tuple[int, int, int]  # the most common original (height, width, channels)
    distinct_shapes: int
    unreadable: int


@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
    source: str
    format: str  # csv, tsv, parquet, npz, image_folder
    frame: pd.DataFrame  # for an image folder: one row per image, columns path and label
    target: str | None
    target_reason: str
    images: ImageSample | None = None
    notes: tuple[str, ...] = ()
    image_shape: tuple[int, int, int] | None = None  # (height, width, channels) when the source says so (.npz)
