"""NumPy `.npz` archives -> the same tables the rest of the advisor reads, so one path serves all:

    (n, height, width, channels) or (n, channels, height, width)  images  -> pixel columns
    (n, height, width)                                                  greyscale images
    (n, steps, channels) with few channels (<= 16) and more steps      sequences -> long format
    (n, features)                                                       a table, columns x0, x1, ...

The features are the array under x / X / data / images / inputs / features (or the first array),
the labels the 1-D array under y / Y / labels / label / target / targets (or the second).
Pickled objects are refused: an .npz from an untrusted source must not run code.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from advisor.errors import InputError

FEATURE_KEYS = ("x", "X", "data", "images", "inputs", "features")
LABEL_KEYS = ("y", "Y", "labels", "label", "target", "targets")
MAX_SEQUENCE_CHANNELS = 16
LABEL_COLUMN = "label"


def read_npz(path: Path) -> tuple[pd.DataFrame, str | None, tuple[int, int, int] | None]:
    """The table, the label column's name (None without labels) and, for images, (height, width, channels)."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except ValueError as error:
        if "pickle" in str(error).lower():
            raise InputError(f"{path}: the archive holds pickled Python objects, which are refused. "
                             "Save plain numeric arrays with numpy.savez.") from None
        raise InputError(f"{path}: not a readable .npz archive ({error}).") from None
    except (OSError, zipfile.BadZipFile, EOFError) as error:
        raise InputError(f"{path}: not a readable .npz archive ({error}). Save it with numpy.savez.") from None
    features, labels = _pick(arrays, path)
    if not np.issubdtype(features.dtype, np.number) and features.dtype != bool:
        raise InputError(f"{path}: the feature array has dtype {features.dtype}; it must be numeric.")
    if labels is not None and (labels.ndim != 1 or len(labels) != len(features)):
        raise InputError(f"{path}: the labels must be one value per sample: shape {labels.shape} "
                         f"against {len(features)} samples.")
    frame, image_shape = _to_frame(features, path)
    if labels is not None:
        frame[LABEL_COLUMN] = labels[frame.pop("_sample").to_numpy()]
    else:
        frame.pop("_sample")
    return frame, (LABEL_COLUMN if labels is not None else None), image_shape


def _pick(arrays: dict[str, np.ndarray], path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    if not arrays:
        raise InputError(f"{path}: the archive holds no arrays.")
    names = list(arrays)
    feature_name = next((k for k in FEATURE_KEYS if k in arrays), names[0])
    label_name = next((k for k in LABEL_KEYS if k in arrays), None)
    if label_name is None:
        rest = [k for k in names if k != feature_name and arrays[k].ndim == 1]
        label_name = rest[0] if rest else None
    return arrays[feature_name], (arrays[label_name] if label_name else None)


def _to_frame(features: np.ndarray, path: Path) -> tuple[pd.DataFrame, tuple[int, int, int] | None]:
    n = len(features)
    if features.ndim == 4:
        if features.shape[1] in (1, 3) and features.shape[3] not in (1, 3):
            features = features.transpose(0, 2, 3, 1)  # channels first -> last
        height, width, channels = features.shape[1:]
        return _pixel_frame(features.reshape(n, -1)), (height, width, channels)
    if features.ndim == 3:
        steps, channels = features.shape[1:]
        if channels <= MAX_SEQUENCE_CHANNELS and steps > channels:
            return _long_frame(features), None
        return _pixel_frame(features.reshape(n, -1)), (features.shape[1], features.shape[2], 1)
    if features.ndim == 2:
        frame = pd.DataFrame(features, columns=[f"x{j}" for j in range(features.shape[1])])
        frame["_sample"] = np.arange(n)
        return frame, None
    raise InputError(f"{path}: a feature array of shape {features.shape} is not a table (n, features), "
                     "sequences (n, steps, channels) or images (n, height, width[, channels]).")


def _pixel_frame(flat: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame(flat, columns=[f"pixel{j}" for j in range(flat.shape[1])])
    frame["_sample"] = np.arange(len(flat))
    return frame


def _long_frame(values: np.ndarray) -> pd.DataFrame:
    """One row per (series, step); steps where every channel is NaN (padding of shorter series) are left out."""
    n, steps, channels = values.shape
    names = ["value"] if channels == 1 else [f"value_{j}" for j in range(channels)]
    flat = values.reshape(n * steps, channels).astype(np.float64)
    frame = pd.DataFrame(flat, columns=names)
    frame.insert(0, "step", np.tile(np.arange(steps), n))
    frame.insert(0, "series_id", np.repeat(np.arange(n), steps))
    frame["_sample"] = frame["series_id"]
    return frame[~np.isnan(flat).all(axis=1)].reset_index(drop=True)
