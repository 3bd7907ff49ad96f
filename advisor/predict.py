"""`advisor predict RUN_DIR NEW.csv`: the exported model applied to new rows, columns checked first."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from advisor.errors import InputError
from advisor.features import feature_frame
from advisor.loading.images import IMAGE_SUFFIXES, read_images
from advisor.loading import read_rows
from advisor.sequences import every_kth_step, sequence_arrays
from advisor.types import SequenceShape


def predict(run_dir: Path, data: Path) -> pd.DataFrame:
    from tuners.export import load_model
    from tuners.forecast.predict import forecast_manifest, forecast_next, is_forecast

    if is_forecast(run_dir / "model"):  # a forecast: the next steps after each series in DATA
        manifest = forecast_manifest(run_dir / "model")
        if not data.exists():
            raise InputError(f"{data}: no such file or folder. Check the path.")
        return forecast_next(manifest, read_rows(data), str(data))
    model = load_model(run_dir / "model")
    if not data.exists():
        raise InputError(f"{data}: no such file or folder. Check the path.")
    files = series = None
    if model.manifest.get("image"):
        features, files = _image_inputs(data, model.manifest["image"])
    elif model.manifest.get("sequence"):
        features, series = _sequence_inputs(data, model.manifest["sequence"])
    else:
        frame = read_rows(data)
        _check_columns(frame, model.spec.columns, data)
        features = feature_frame(frame, model.spec)
    classes = model.manifest["classes"]
    predicted = model.predict(features)
    result = pd.DataFrame(index=range(len(predicted)))
    if files is not None:
        result["file"] = files
    if series is not None:
        result["series"] = series
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
        frame = read_rows(data)
        _check_columns(frame, image["pixel_columns"], data)
        files = None
        pixels = frame[image["pixel_columns"]].to_numpy(dtype=np.float32, na_value=0.0)
        pixels = pixels.reshape(len(frame), height, width, channels)
    return np.ascontiguousarray((pixels / image["scale"]).transpose(0, 3, 1, 2)), files


def _sequence_inputs(data: Path, info: dict) -> tuple[np.ndarray, list]:
    """Masked sequence arrays built as in training, and each series' id (its row number in wide format)."""
    frame = read_rows(data)
    needed = [c for c in (info["id_column"], info["time_column"]) if c] + list(info["value_columns"])
    _check_columns(frame, needed, data)
    shape = SequenceShape(id_column=info["id_column"], time_column=info["time_column"],
                          value_columns=tuple(info["value_columns"]), series=0, min_length=0, median_length=0.0,
                          max_length=0, layout=info["layout"])
    if not len(frame) or (shape.layout == "long" and frame[shape.id_column].isna().all()):
        raise InputError(f"{data}: no series to predict (no rows with a series id).")
    arrays = every_kth_step(sequence_arrays(frame, shape), int(info.get("stride", 1)))
    return arrays.with_mask(), arrays.series_ids.tolist()
