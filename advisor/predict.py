"""`advisor predict RUN_DIR NEW.csv`: the exported model applied to new rows, columns checked first."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from advisor.errors import InputError
from advisor.features import feature_frame
from advisor.loading.images import IMAGE_SUFFIXES, read_images
from advisor.loading.tables import read_table


def predict(run_dir: Path, data: Path) -> pd.DataFrame:
    from tuners.export import load_model

    model = load_model(run_dir / "model")
    if not data.exists():
        raise InputError(f"{data}: no such file or folder. Check the path.")
    files = None
    if model.manifest.get("image"):
        features, files = _image_inputs(data, model.manifest["image"])
    else:
        frame, _ = read_table(data)
        _check_columns(frame, model.spec.columns, data)
        features = feature_frame(frame, model.spec)
    classes = model.manifest["classes"]
    predicted = model.predict(features)
    result = pd.DataFrame(index=range(len(predicted)))
    if files is not None:
        result["file"] = files
    if model.manifest["task"] == "clustering":
        result["cluster"] = predicted.astype(int)
        return result
    if not classes:
        result["prediction"] = predicted.astype(float)
        return result
    result["prediction"] = np.asarray(classes, dtype=object)[predicted.astype(int)]
    probabilities = model.predict_proba(features)
    if probabilities is not None:
        for index, label in enumerate(classes):
            result[f"probability_{label}"] = probabilities[:, index]
    return result


def _check_columns(frame: pd.DataFrame, columns, data: Path) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        shown = ", ".join(repr(c) for c in missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise InputError(
            f"{data}: {len(missing)} column(s) the model was trained on are missing: {shown}. "
            "Give a file with the training columns (extra columns are ignored)."
        )


def _image_inputs(data: Path, image: dict) -> tuple[np.ndarray, list[str] | None]:
    """Arrays shaped as in training: every image under a folder, or the pixel columns of a file."""
    channels, height, width = image["shape"]
    if data.is_dir():
        files = sorted(str(p) for p in data.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not files:
            raise InputError(f"{data}: no image files in this folder.")
        pixels = read_images(files, (height, width, channels)).astype(np.float32)
    else:
        if not image.get("pixel_columns"):
            raise InputError(f"{data}: this model was trained on an image folder; give a folder of images.")
        frame, _ = read_table(data)
        _check_columns(frame, image["pixel_columns"], data)
        files = None
        pixels = frame[image["pixel_columns"]].to_numpy(dtype=np.float32, na_value=0.0)
        pixels = pixels.reshape(len(frame), height, width, channels)
    return np.ascontiguousarray((pixels / image["scale"]).transpose(0, 3, 1, 2)), files
