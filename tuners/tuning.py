"""The tune stage's entry point: a profiled table and a family in, a TuneOutcome out."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from pathlib import Path
from typing import Any

import pandas as pd

from advisor.events import OnEvent
from advisor.types import Family, Profile
from tuners import export, plan
from tuners.backends import BACKENDS, backend_for, load, search_for
from tuners.data import check_inputs, metric_reason, prepare
from tuners.families import FAMILIES, family_def
from tuners.finish import TuningFailed, anchor_of, population_sizes, refit_best
from tuners.settings import TuneSettings
from tuners.space import scale_of



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
    best: dict[str, Any]  # {"config", "metric", "validation_score", "test_score", "trial_id", "anchor", ...}
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
    defaults: dict[str, Any] | None = None  # the library's default configuration, scored first beside the start
    # Stages that ended before their budget because the search had converged (tuners/convergence.py).
    stopped_early: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    metric_reason: str = ""  # why the metric, and what it means for the models (tuners.data.metric_reason)


def cluster_session(address: str | None):
    """Join the Ray cluster at `address` (or start a local one) for a block of work, e.g. a batch."""
    from tuners.ray_backend import ray_session

    return ray_session(address)


def shared_session(families, settings: TuneSettings):
    """One cluster session for a family race and the search after it. Each backend session starts
    (and stops) its own local Ray when none is up, about 3 s a start on 2 cores, so a raced run paid
    it three times; nested sessions join this one. Opened only where one of `families` trains on
    a cluster backend (not in the job's own process)."""
    if any(not BACKENDS[backend_for(f, settings.tuner)].in_process for f in families):
        return cluster_session(settings.address)
    return contextlib.nullcontext()


def tune(frame: pd.DataFrame, profile: Profile, family: Family, settings: TuneSettings, run_dir: Path,
         on_event: OnEvent | None = None, test_rows=None, images=None) -> TuneOutcome:
    """Tune `family` on `frame`; `test_rows` (positions in `frame`) are the test set, else a random 20%;
    `images`: an image folder's images, decoded by loading (`loading.training_arrays`)."""
    started = time.monotonic()
    definition = FAMILIES[family]
    check_inputs(family.value, definition.inputs, profile, _takers())
    backend_name = backend_for(family, settings.tuner)
    settings = dataclasses.replace(settings, tuner=backend_name, search=search_for(backend_name, settings.search))
    backend = load(backend_name)
    problem = prepare(frame, profile, settings.seed, inputs=definition.inputs, test_rows=test_rows, images=images)
    storage = run_dir / "tuning"
    storage.mkdir(parents=True, exist_ok=True)
    with export.warmed():
        found = plan.search(problem, family, settings, storage, backend, on_event)
        finished, best, chosen_because = refit_best(problem, family, found.records, found.anchors, run_dir / "model",
                                                    settings)
    done = [r.score for r in found.records if r.status == "completed" and r.score is not None]
    return TuneOutcome(
        family=family.value, backend=backend_name, metric=problem.metric, validation=problem.validation,
        search=settings.search, stages=found.stages, scheduler=found.scheduler,
        space={name: {"domain": p.domain.describe(), "why": p.why, "scale": scale_of(p.domain)}
               for name, p in found.space.params.items()},
        start=found.space.start, defaults=found.anchors["defaults"],
        best={"config": best.config, "metric": problem.metric, "validation_score": best.score,
              "test_score": finished["test"][problem.metric], "trial_id": best.trial_id,
              "chosen_because": chosen_because + _converged_words(found.stopped_early),
              "anchor": anchor_of(best.config, found.anchors),
              "best_validation_score": max(done, default=best.score)},
        test_metrics=finished["test"],
        baseline={"config": finished["baseline_config"], "test_score": finished["baseline_test"][problem.metric],
                  "test_metrics": finished["baseline_test"]},
        trials=[dataclasses.asdict(r) for r in found.records],
        budget_s=settings.budget_s, wall_s=round(time.monotonic() - started, 2),
        resources={**backend.resources(settings, found.cluster), "cluster_cpus": found.cluster.get("CPU", 0.0),
                   "cluster_gpus": found.cluster.get("GPU", 0.0), "nodes": found.cluster.get("nodes", 1.0),
                   **_populations(found.records), "population_note": definition.population_note},
        model={"path": str(run_dir / "model"), "format": family_def(family, backend_name).model_format,
               **finished["kept"]},
        test_rows=[int(i) for i in problem.test_rows], duel=found.pre_search, test_details=finished["details"],
        library=backend.library(definition), stopped_early=found.stopped_early, metric_reason=metric_reason(profile),
    )


def _takers() -> dict[str, list[str]]:
    """For each kind of input, the families that train on it."""
    takers: dict[str, list[str]] = {}
    for family, definition in FAMILIES.items():
        takers.setdefault(definition.inputs, []).append(family.value)
    return takers


def _populations(records) -> dict[str, int]:
    """How many configurations each Ray trial trained at once (1: one per trial), and in how many trials."""
    sizes = population_sizes(records)
    return {"population": max(sizes.values(), default=1), "population_trials": len(sizes)}


def _converged_words(stopped: list[dict[str, Any]]) -> str:
    """What chosen_because adds when a stage ended early on convergence."""
    return "".join(f"; the search stopped early in its {record['stage']} stage after {record['after_trials']} finished trials: "
                   f"{record['reason']}" for record in stopped)
