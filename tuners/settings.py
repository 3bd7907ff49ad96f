"""The typed values the search plan and its backends pass: what to search with, and what a search found."""

from __future__ import annotations

import dataclasses

from tuners.convergence import PATIENCE
from tuners.records import TrialRecord
from tuners.space import Space


@dataclasses.dataclass(frozen=True)
class TuneSettings:
    budget_s: float
    trials: int | None
    search: str  # random or bayes (Ray Tune); hyperband, random or bayes (KerasTuner)
    cpus_per_trial: float
    gpus_per_trial: float
    address: str | None
    seed: int
    tuner: str = "ray"  # the backend that searches (tuners/backends.py)
    population: int | None = None  # configurations per Ray trial for families that train populations; None: by device
    max_concurrent_trials: int | None = None  # None: as many as the cluster's CPUs hold (a batch job gets its share)
    refit_all: bool = False  # after scoring on the test rows, refit the chosen configuration on every row and export that
    patience: int = PATIENCE  # a stage ends once this many finished trials brought no rise beyond noise; 0: never
    finish_by: float | None = None  # time.time() when the run's budget ends: the refits start no epoch or round after it


@dataclasses.dataclass(frozen=True)
class SearchOutcome:
    space: Space  # as searched (after a pre-search step such as the duel settled some of it)
    records: list[TrialRecord]
    stages: list[str]
    pre_search: dict | None  # the family's pre-search record (the rnn family's LSTM-vs-GRU duel), if it ran
    cluster: dict[str, float]  # CPUs, GPUs and nodes the trials ran on
    scheduler: str
    anchors: dict[str, dict]  # "defaults" / "start" -> the configuration evaluated first, through every fold
    stopped_early: list[dict] = dataclasses.field(default_factory=list)  # stages that ended on convergence


@dataclasses.dataclass(frozen=True)
class Found:
    """What a backend's own search stages return to the plan."""

    records: list[TrialRecord]
    stages: list[str]
    scheduler: str
    stopped_early: list[dict] = dataclasses.field(default_factory=list)  # Convergence.record of each stage that converged
