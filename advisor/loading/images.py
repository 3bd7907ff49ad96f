"""A folder of images, one subfolder per class -> an index frame (path, label) and a decoded sample."""

from __future__ import annotations

import collections
import random
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError

from advisor.errors import InputError
from advisor.loading.dataset import ImageSample
from advisor.thresholds import PROBE_IMAGE_SIDE, PROBE_MAX_ROWS

# Images from folders are shrunk to at most this side for training on the CPU.
TRAINING_MAX_SIDE = 64
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


def read_image_folder(root: Path, seed: int = 0) -> tuple[pd.DataFrame, ImageSample]:
    classes = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    paths, labels = [], []
    for folder in classes:
        for file in sorted(folder.rglob("*")):
            if file.suffix.lower() in IMAGE_SUFFIXES and file.is_file() and not file.name.startswith("."):
                paths.append(str(file))
                labels.append(folder.name)
    if not paths:
        raise InputError(
            f"{root}: a folder, but no images in subfolders. Give a CSV/Parquet file, or a folder with one "
            f"subfolder per class holding {', '.join(sorted(IMAGE_SUFFIXES))} files."
        )
    frame = pd.DataFrame({"path": paths, "label": labels})
    return frame, _sample(frame, seed)


def _sample(frame: pd.DataFrame, seed: int) -> ImageSample:
    order = list(range(len(frame)))
    random.Random(seed).shuffle(order)
    pixels, labels, shapes = [], [], collections.Counter()
    unreadable = 0
    for index in order[:PROBE_MAX_ROWS]:
        path, label = frame.iat[index, 0], frame.iat[index, 1]
        try:
            with Image.open(path) as image:
                image.load()
                channels = len(image.getbands())
                shapes[(image.height, image.width, channels)] += 1
                rgb = image.convert("RGB").resize((PROBE_IMAGE_SIDE, PROBE_IMAGE_SIDE))
                pixels.append(np.asarray(rgb, dtype=np.uint8))
                labels.append(label)
        except (UnidentifiedImageError, OSError, ValueError):
            unreadable += 1
    if not pixels:
        raise InputError(f"{frame.iat[0, 0]} and the other sampled images could not be decoded. Check the image files.")
    return ImageSample(
        pixels=np.stack(pixels),
        labels=np.asarray(labels),
        shape=shapes.most_common(1)[0][0],
        distinct_shapes=len(shapes),
        unreadable=unreadable,
    )


def read_images(paths, shape: tuple[int, int, int]) -> np.ndarray:
    """Decode every image, resized to (height, width) and converted to `channels` (1 or 3): uint8 (n, h, w, c).
    An unreadable file is an error here: training and prediction need every row."""
    height, width, channels = shape
    mode = "L" if channels == 1 else "RGB"
    images = np.empty((len(paths), height, width, channels), dtype=np.uint8)
    for index, path in enumerate(paths):
        try:
            with Image.open(path) as image:
                resized = image.convert(mode).resize((width, height))
                images[index] = np.asarray(resized, dtype=np.uint8).reshape(height, width, channels)
        except (UnidentifiedImageError, OSError, ValueError) as error:
            raise InputError(f"{path}: cannot decode this image ({error}). Remove or replace it.") from None
    return images


def training_images(frame: pd.DataFrame, shape: tuple[int, int, int]) -> np.ndarray:
    """Every image an image folder's index names (its `path` column), decoded for training: uint8
    (n, height, width, channels), each side at most TRAINING_MAX_SIDE."""
    height, width, channels = shape
    return read_images(frame["path"].tolist(), (min(height, TRAINING_MAX_SIDE), min(width, TRAINING_MAX_SIDE), channels))
