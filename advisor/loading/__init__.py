"""Loading: the only stage that reads the user's input. Files and folders -> a Dataset."""

from __future__ import annotations

from pathlib import Path

from advisor.errors import InputError
from advisor.loading.arrays import read_npz
from advisor.loading.dataset import Dataset, ImageSample
from advisor.loading.images import read_image_folder, training_images
from advisor.loading.numbers import read_formatted_numbers
from advisor.loading.tables import read_table, renaming_notes
from advisor.loading.target import resolve_target

__all__ = ["Dataset", "ImageSample", "load", "read_rows", "training_arrays"]


def read_rows(path: Path):
    """Just the table of a data file (CSV/TSV/Parquet/.npz), for applying a model to new rows."""
    if path.suffix.lower() == ".npz":
        return read_npz(path)[0]
    return read_formatted_numbers(read_table(path)[0])[0]  # as the model's training rows were read


def training_arrays(frame, file_format: str, image_shape: tuple[int, int, int] | None):
    """What the models train on that the table does not hold: an image folder's images, every one
    decoded (uint8 (n, height, width, channels)); None for every other format, whose data is its columns."""
    if file_format != "image_folder":
        return None
    return training_images(frame, image_shape)


def load(path: str | Path, target: str | None = None) -> Dataset:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder. Check the path.")
    if path.is_dir():
        frame, sample = read_image_folder(path)
        if target not in (None, "label"):
            raise InputError(f"{path}: an image folder's target is its class subfolder; drop --target {target!r}.")
        notes = ()
        if sample.unreadable:
            notes = (f"{sample.unreadable} sampled image file(s) could not be decoded and were skipped",)
        return Dataset(
            source=str(path),
            format="image_folder",
            frame=frame,
            target="label",
            target_reason="the class is the subfolder each image sits in",
            images=sample,
            notes=notes,
        )
    if not path.is_file():
        raise InputError(f"{path}: not a regular file. Give a CSV/TSV or Parquet file, or an image folder.")
    image_shape, notes = None, ()
    if path.suffix.lower() == ".npz":
        frame, _, image_shape = read_npz(path)  # its label column is named "label", found by convention
        file_format = "npz"
    else:
        frame, file_format, renamed = read_table(path)
        frame, notes = read_formatted_numbers(frame)
        notes = (*renaming_notes(renamed), *notes)
    if frame.shape[1] == 0:
        raise InputError(f"{path}: no columns found. Give a file with a header row.")
    if len(frame) == 0:
        raise InputError(f"{path}: a header but no data rows. Add rows below the header.")
    column, reason = resolve_target(list(frame.columns), target, str(path))
    return Dataset(source=str(path), format=file_format, frame=frame, target=column, target_reason=reason,
                   image_shape=image_shape, notes=notes)
