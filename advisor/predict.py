"""`advisor predict RUN_DIR NEW.csv`: the exported model applied to new rows, columns checked first."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from advisor.errors import InputError
from advisor.features import feature_frame
from advisor.loading.tables import read_table


def predict(run_dir: Path, data: Path) -> pd.DataFrame:
    from tuners.export import load_model

    model = load_model(run_dir / "model")
    if not data.exists():
        raise InputError(f"{data}: no such file. Check the path.")
    frame, _ = read_table(data)
    spec = model.spec
    missing = [c for c in spec.columns if c not in frame.columns]
    if missing:
        shown = ", ".join(repr(c) for c in missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise InputError(
            f"{data}: {len(missing)} column(s) the model was trained on are missing: {shown}. "
            "Give a file with the training columns (extra columns are ignored)."
        )
    features = feature_frame(frame, spec)
    classes = model.manifest["classes"]
    predicted = model.predict(features)
    if model.manifest["task"] == "clustering":
        return pd.DataFrame({"cluster": predicted.astype(int)})
    if not classes:
        return pd.DataFrame({"prediction": predicted.astype(float)})
    result = pd.DataFrame({"prediction": np.asarray(classes, dtype=object)[predicted.astype(int)]})
    probabilities = model.predict_proba(features)
    if probabilities is not None:
        for index, label in enumerate(classes):
            result[f"probability_{label}"] = probabilities[:, index]
    return result
