"""Export a fitted model in safe, documented formats, and load it back for `advisor predict`.

    model/manifest.json     family, task, classes, feature columns, config, metric, formats
    model/features.skops    the fitted preprocessing (scikit-learn, skops format)
    model/model.skops       scikit-learn models (linear, naive Bayes, k-means)
    model/xgboost.json      XGBoost's own JSON model format (a bag: xgboost-1.json, ..., averaged;
                            with manifest.json's "log_target", exp of that average times its "smearing")
    model/member-1/, ...    a blend (tuners/blending.py): each member a model folder like this one, their
                            class probabilities or predictions averaged with manifest.json's "blend" weights
    model/weights.npz       torch weights as plain arrays (no pickle) + the architecture in the manifest
    model/model.keras       Keras's own format (KerasTuner backend), loaded with Keras's safe mode on

skops is scikit-learn's own safe persistence: loading checks every type against a list we trust
(scikit-learn, numpy, scipy) instead of running arbitrary pickled code.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import json
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np

from advisor.errors import InputError
from advisor.features import FeatureSpec

TRUSTED_MODULES = ("sklearn.", "numpy.", "scipy.", "builtins.", "collections.")


@contextlib.contextmanager
def warmed():
    """Import skops on a thread while the search runs, joined at the end. Its import takes about
    1.9 s on 2 cores (its list of trusted types walks every scikit-learn module), which every run
    paid after its search; the driver mostly waits on its trials then, so the export that follows
    the search no longer does."""
    thread = threading.Thread(target=_import_quietly, name="advisor-import-skops", daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()


def _import_quietly() -> None:
    with contextlib.suppress(ImportError):  # save_model imports it again and says what is missing
        skops_io()


# skops lists the types it trusts with scikit-learn's all_estimators(), whose package walk imports
# every package under sklearn, this one too, and with it torch: 2.2 s of a 10 s linear run on 2
# cores, and torch's teardown at exit, in runs that train no net. The walk skips a package that
# cannot be imported, and no estimator lives in it.
ARRAY_API_TORCH = "sklearn.externals.array_api_compat.torch"
_IMPORT_LOCK = threading.Lock()


def skops_io():
    """skops.io, imported without importing torch where torch is not loaded already."""
    with _IMPORT_LOCK:
        if "skops.io" in sys.modules or "torch" in sys.modules or ARRAY_API_TORCH in sys.modules:
            return importlib.import_module("skops.io")
        sys.modules[ARRAY_API_TORCH] = None  # an import of it raises ImportError while skops lists its types
        try:
            return importlib.import_module("skops.io")
        finally:
            del sys.modules[ARRAY_API_TORCH]


def save_model(model, manifest: dict[str, Any], folder: Path) -> None:
    """`model` (a fitted pipeline, or a blend of them) in its format's files, and manifest.json."""
    folder.mkdir(parents=True, exist_ok=True)
    if manifest["format"] not in FORMATS:
        raise ValueError(f"unknown model format {manifest['format']!r}")
    extra = FORMATS[manifest["format"]][0](model, folder, manifest)
    (folder / "manifest.json").write_text(json.dumps(dict(manifest, **extra), indent=2), encoding="utf-8")


def _estimator(model, folder: Path):
    """A pipeline's fitted preprocessing saved as features.skops; its last step returned to be saved."""
    skops_io().dump(model.named_steps["features"], folder / "features.skops")
    return model.named_steps["model"]


def _save_skops(model, folder: Path, manifest: dict[str, Any]) -> dict:
    """The fitted scikit-learn model; an estimator of ours that trains one (the forest's, under a
    deadline) names it `library_model_`, and that is saved, so loading needs no class of ours."""
    estimator = _estimator(model, folder)
    skops_io().dump(getattr(estimator, "library_model_", estimator), folder / "model.skops")
    return {}


def _save_xgboost(model, folder: Path, manifest: dict[str, Any]) -> dict:
    """One model as xgboost.json; a bag's members as xgboost-1.json, ... (their predictions averaged)."""
    estimator = _estimator(model, folder)
    members = getattr(estimator, "members_", [estimator.booster_])
    # predictions are exp(trees') times Duan's smearing factor (tuners.families.boosting.smearing)
    scale = ({"log_target": True, "smearing": float(getattr(estimator, "smearing_", 1.0))}
             if getattr(estimator, "log_target", False) else {})
    if len(members) == 1:
        members[0].save_model(folder / "xgboost.json")
        return scale
    for number, member in enumerate(members, 1):
        member.save_model(folder / f"xgboost-{number}.json")
    return {"members": len(members), **scale}


def _network(estimator) -> dict:
    """What a net's manifest records to rebuild it: architecture, input shape, outputs, target scaling."""
    return {"network": {"architecture": estimator.architecture, "input_shape": list(estimator.input_shape_),
                        "classes": estimator.classes, "y_mean": getattr(estimator, "y_mean_", 0.0),
                        "y_std": getattr(estimator, "y_std_", 1.0)}}


def _save_torch(model, folder: Path, manifest: dict[str, Any]) -> dict:
    estimator = _estimator(model, folder)
    state = {k: v.detach().cpu().numpy() for k, v in estimator.network_.state_dict().items()}
    np.savez(folder / "weights.npz", **state)
    return _network(estimator)


def _save_keras(model, folder: Path, manifest: dict[str, Any]) -> dict:
    estimator = _estimator(model, folder)
    estimator.model_.save(folder / "model.keras")
    return _network(estimator)


@dataclasses.dataclass(frozen=True, eq=False)
class LoadedModel:
    manifest: dict[str, Any]
    features: Any  # the fitted preprocessing; None where the estimator takes the feature frame (a blend)
    estimator: Any

    @property
    def spec(self) -> FeatureSpec:
        return FeatureSpec(**{k: tuple(v) for k, v in self.manifest["spec"].items()})

    def transform(self, frame):
        return frame if self.features is None else self.features.transform(frame)

    def predict(self, frame) -> np.ndarray:
        return self.estimator.predict(self.transform(frame))

    def predict_proba(self, frame) -> np.ndarray | None:
        if not hasattr(self.estimator, "predict_proba"):
            return None
        return self.estimator.predict_proba(self.transform(frame))


def load_model(folder: Path) -> LoadedModel:
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{folder}: no exported model here (manifest.json missing). Run 'advisor recommend' first.") from None
    if manifest.get("format") not in FORMATS:
        raise InputError(f"{folder}: unknown model format {manifest.get('format')!r} in manifest.json.")
    features = _load_skops(folder / "features.skops") if (folder / "features.skops").exists() else None
    return LoadedModel(manifest, features, FORMATS[manifest["format"]][1](folder, manifest))


def _load_skops(path: Path):
    skops = skops_io()
    untrusted = skops.get_untrusted_types(file=path)
    unsafe = [t for t in untrusted if not t.startswith(TRUSTED_MODULES)]
    if unsafe:
        raise InputError(f"{path}: refuses to load types outside scikit-learn/numpy/scipy: {unsafe[:3]}")
    return skops.load(path, trusted=untrusted)


def _load_xgboost(folder: Path, manifest: dict[str, Any]):
    import xgboost

    from tuners.families.boosting import EarlyStoppedXGB

    files = ([f"xgboost-{number}.json" for number in range(1, manifest["members"] + 1)] if manifest.get("members")
             else ["xgboost.json"])
    members = []
    for name in files:
        member = xgboost.XGBClassifier() if manifest["classes"] else xgboost.XGBRegressor()
        member.load_model(folder / name)
        members.append(member)
    estimator = EarlyStoppedXGB(classes=len(manifest["classes"]), log_target=bool(manifest.get("log_target")))
    estimator.members_, estimator.booster_ = members, members[0]
    estimator.smearing_ = float(manifest.get("smearing", 1.0))
    return estimator


def _load_torch(folder: Path, manifest: dict[str, Any]):
    import torch

    from tuners.families.torch_net import TorchNet, build_network

    info = manifest["network"]
    estimator = TorchNet(manifest["config"], classes=info["classes"], architecture=info["architecture"])
    estimator.network_ = build_network(info["architecture"], info["input_shape"], info["classes"] or 1, manifest["config"])
    with np.load(folder / "weights.npz", allow_pickle=False) as arrays:
        estimator.network_.load_state_dict({k: torch.as_tensor(arrays[k]) for k in arrays.files})
    estimator.input_shape_ = tuple(info["input_shape"])
    estimator.y_mean_, estimator.y_std_ = info["y_mean"], info["y_std"]
    return estimator


def _load_keras(folder: Path, manifest: dict[str, Any]):
    """The `.keras` file on whichever backend Keras runs here (the format does not depend on it)."""
    import keras

    from tuners.families.keras_layers import SeriesInput
    from tuners.families.keras_net import KerasNet

    info = manifest["network"]
    estimator = KerasNet(manifest["config"], classes=info["classes"], architecture=info["architecture"])
    estimator.model_ = keras.saving.load_model(folder / "model.keras", safe_mode=True,
                                               custom_objects={"advisor>SeriesInput": SeriesInput})
    estimator.input_shape_ = tuple(info["input_shape"])
    estimator.y_mean_, estimator.y_std_ = info["y_mean"], info["y_std"]
    return estimator


def _save_blend(blend, folder: Path, manifest: dict[str, Any]) -> dict:
    """A blend (tuners/blending.py): each member a model folder of its own, member-1 (the chosen
    configuration), member-2, ...; the manifest lists their weights."""
    for number, (model, member) in enumerate(zip(blend.models, blend.manifests), 1):
        save_model(model, {**manifest, **member}, folder / f"member-{number}")
    return {"blend": {"members": [m["family"] for m in blend.manifests], "weights": list(blend.weights)}}


def _load_blend(folder: Path, manifest: dict[str, Any]):
    from tuners.blending import Blend

    weights = (manifest.get("blend") or {}).get("weights")
    if not isinstance(weights, list) or not weights or not all(isinstance(w, (int, float)) for w in weights):
        raise InputError(f"{folder}: manifest.json's blend lists no weights. Export the model again with "
                         "'advisor recommend'.")
    members = [load_model(folder / f"member-{number}") for number in range(1, len(weights) + 1)]
    return Blend(members, weights, bool(manifest["classes"]))


# Model formats by name (FamilyDef.model_format, and "blend"): (save(model, folder, manifest) -> manifest
# additions, load(folder, manifest) -> the estimator LoadedModel applies to the preprocessed frame).
# A new format is a pair of functions and one entry here.
FORMATS = {
    "skops": (_save_skops, lambda folder, manifest: _load_skops(folder / "model.skops")),
    "xgboost": (_save_xgboost, _load_xgboost),
    "torch": (_save_torch, _load_torch),
    "keras": (_save_keras, _load_keras),
    "blend": (_save_blend, _load_blend),
}
