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
from tuners.families import FAMILIES
from tuners.space import scale_of
from tuners.stages import TuneSettings, TuningFailed, best_trial, finish, search

__all__ = ["TuneOutcome", "TuneSettings", "TuningFailed", "cluster_session", "tune"]


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
    problem = prepare(frame, profile, settings.seed, arrays=family in (Family.CNN, Family.RNN))
    storage = run_dir / "tuning"
    storage.mkdir(parents=True, exist_ok=True)
    found = search(problem, family, settings, storage, on_event)
    space, records = found.space, found.records
    best, chosen_because = best_trial(records, space.start)
    finished = finish(problem, family, best.config, run_dir / "model", settings)
    test_score = finished["test"][problem.metric]
    return TuneOutcome(
        family=family.value,
        backend="ray",
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
              "best_validation_score": max(r.score for r in records if r.status == "completed" and r.score is not None)},
        test_metrics=finished["test"],
        baseline={"config": finished["baseline_config"], "test_score": finished["baseline_test"][problem.metric],
                  "test_metrics": finished["baseline_test"]},
        trials=[dataclasses.asdict(r) for r in records],
        budget_s=settings.budget_s,
        wall_s=round(time.monotonic() - started, 2),
        resources={"cpus_per_trial": settings.cpus_per_trial, "gpus_per_trial": settings.gpus_per_trial,
                   "address": settings.address or "local", "cluster_cpus": found.cluster.get("CPU", 0.0),
                   "cluster_gpus": found.cluster.get("GPU", 0.0), "nodes": found.cluster.get("nodes", 1.0)},
        model={"path": str(run_dir / "model"), "format": FAMILIES[family].model_format},
        test_rows=[int(i) for i in problem.test_rows],
        duel=found.duel,
        test_details=finished["details"],
    )
