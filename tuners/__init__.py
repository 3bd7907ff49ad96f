"""Tuners: search spaces (declared once, translated per backend), trainables and backends.

`tune()` is the stage's one entry point: a profiled table and a family in, a TuneOutcome out.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from advisor.errors import InputError
from advisor.types import Family, Modality, Profile
from tuners.data import prepare
from tuners.families import KERAS_FAMILIES, TUNERS, family_def
from tuners.space import scale_of
from tuners.stages import TuneSettings, TuningFailed, refit_best, search

__all__ = ["TUNERS", "TuneOutcome", "TuneSettings", "TuningFailed", "backend_for", "cluster_session", "tune"]


@dataclasses.dataclass(frozen=True)
class TuneOutcome:
    family: str
    backend: str
    metric: str
    validation: str
    search: str
    stages: list[str]
    scheduler: str
    space: dict[str, dict[str, str]]  # name -> {"domain", "why"}
    start: dict[str, Any]
    best: dict[str, Any]  # {"config", "metric", "validation_score", "test_score", "trial_id"}
    test_metrics: dict[str, float]
    baseline: dict[str, Any]  # {"config", "test_score", "test_metrics"}
    trials: list[dict[str, Any]]
    budget_s: float
    wall_s: float
    resources: dict[str, float]
    model: dict[str, str]
    test_rows: list[int]
    # Classification: {"labels", "confusion", "per_class"}; regression: {"actual", "predicted"} (a sample).
    test_details: dict[str, Any] | None = None
    duel: dict[str, Any] | None = None  # rnn only: {"subset_rows", "seed", "scores", "winner", "reason", "trials"}
    library: str = ""  # what trained the models, e.g. "PyTorch 2.13.0" or "Keras 3.15.1 on torch, KerasTuner 1.4.8"


def backend_for(family: Family, tuner: str) -> str:
    """The backend that tunes `family` when the user asks for `tuner`: KerasTuner tunes only the
    neural families; every other family stays with Ray Tune."""
    return "keras" if tuner == "keras" and family in KERAS_FAMILIES else "ray"


def cluster_session(address: str | None):
    """Join the Ray cluster at `address` (or start a local one) for a block of work, e.g. a batch."""
    from tuners.ray_backend import ray_session

    return ray_session(address)


def tune(frame: pd.DataFrame, profile: Profile, family: Family, settings: TuneSettings, run_dir: Path,
         on_event: Callable[[str, dict], None] | None = None) -> TuneOutcome:
    started = time.monotonic()
    if family == Family.CNN and profile.modality != Modality.IMAGE:
        raise InputError(f"the cnn family needs images; this data is {profile.modality.value}. Choose another --family.")
    if profile.format == "image_folder" and family != Family.CNN:
        raise InputError(f"an image folder trains only the cnn family, not {family.value}. Use --family cnn, "
                         "or a pixel CSV for flat models.")
    if profile.modality == Modality.SEQUENCE and profile.sequence.layout == "long" and family != Family.RNN:
        raise InputError(f"sequences in long format train only the rnn family, not {family.value}. Use --family rnn, "
                         "or give the series in wide format (one row per series) for flat models.")
    if family == Family.RNN and profile.modality != Modality.SEQUENCE:
        raise InputError(f"the rnn family needs sequences; this data is {profile.modality.value}. Choose another --family.")
    backend = backend_for(family, settings.tuner)
    # Hyperband is KerasTuner's: a family Ray Tune tunes instead gets Ray's random search.
    search_name = "random" if backend == "ray" and settings.search == "hyperband" else settings.search
    settings = dataclasses.replace(settings, tuner=backend, search=search_name)
    problem = prepare(frame, profile, settings.seed, arrays=family in (Family.CNN, Family.RNN))
    storage = run_dir / "tuning"
    storage.mkdir(parents=True, exist_ok=True)
    if backend == "keras":
        try:  # KerasTuner and Keras load only for this backend
            from tuners import keras_backend, keras_search
        except ImportError as error:
            raise InputError(f"--tuner keras: Keras cannot start its backend ({error}). Install tensorflow, or set "
                             "KERAS_BACKEND=torch to run Keras on PyTorch.") from None

        found, library = keras_search.search(problem, family, settings, storage, on_event), keras_backend.library()
    else:
        found, library = search(problem, family, settings, storage, on_event), _library(family)
    space, records = found.space, found.records
    finished, best, chosen_because = refit_best(problem, family, records, space.start, run_dir / "model", settings)
    test_score = finished["test"][problem.metric]
    return TuneOutcome(
        family=family.value,
        backend=backend,
        metric=problem.metric,
        validation=problem.validation,
        search=settings.search,
        stages=found.stages,
        scheduler=found.scheduler,
        space={name: {"domain": p.domain.describe(), "why": p.why, "scale": scale_of(p.domain)}
               for name, p in space.params.items()},
        start=space.start,
        best={"config": best.config, "metric": problem.metric, "validation_score": best.score,
              "test_score": test_score, "trial_id": best.trial_id, "chosen_because": chosen_because,
              "best_validation_score": max((r.score for r in records if r.status == "completed" and r.score is not None),
                                           default=best.score)},
        test_metrics=finished["test"],
        baseline={"config": finished["baseline_config"], "test_score": finished["baseline_test"][problem.metric],
                  "test_metrics": finished["baseline_test"]},
        trials=[dataclasses.asdict(r) for r in records],
        budget_s=settings.budget_s,
        wall_s=round(time.monotonic() - started, 2),
        # KerasTuner runs one trial at a time on everything this process sees.
        resources={"cpus_per_trial": found.cluster["CPU"] if backend == "keras" else settings.cpus_per_trial,
                   "gpus_per_trial": found.cluster["GPU"] if backend == "keras" else settings.gpus_per_trial,
                   "address": settings.address or "local", "cluster_cpus": found.cluster.get("CPU", 0.0),
                   "cluster_gpus": found.cluster.get("GPU", 0.0), "nodes": found.cluster.get("nodes", 1.0),
                   **_populations(records)},
        model={"path": str(run_dir / "model"), "format": family_def(family, backend).model_format},
        test_rows=[int(i) for i in problem.test_rows],
        duel=found.duel,
        test_details=finished["details"],
        library=library,
    )


def _populations(records) -> dict[str, int]:
    """How many configurations each Ray trial trained at once (1: one per trial), and in how many trials."""
    sizes: dict[str, int] = {}
    for record in records:
        if record.population is not None:
            sizes[record.population] = sizes.get(record.population, 0) + 1
    return {"population": max(sizes.values(), default=1), "population_trials": len(sizes)}


def _library(family: Family) -> str:
    """The library that trains `family` under Ray Tune, with its version."""
    from importlib.metadata import version

    name = {Family.BOOSTING: "xgboost"}.get(family, "torch" if family in KERAS_FAMILIES else "scikit-learn")
    return f"{name} {version(name)}, Ray {version('ray')}"
