"""The typed values the search plan and its backends pass: what to search with, and what a search found."""

from __future__ import annotations

import dataclasses

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


@dataclasses.dataclass(frozen=True)
class SearchOutcome:
    space: Space  # as searched (after a pre-search step such as the duel settled some of it)
    records: list[TrialRecord]
    stages: list[str]
    pre_search: dict | None  # the family's pre-search record (the rnn family's LSTM-vs-GRU duel), if it ran
    cluster: dict[str, float]  # CPUs, GPUs and nodes the trials ran on
    scheduler: str
    anchors: dict[str, dict]  # "defaults" / "start" -> the configuration evaluated first, through every fold


@dataclasses.dataclass(frozen=True)
class Found:
    """What a backend's own search stages return to the plan."""

    records: list[TrialRecord]
    stages: list[str]
    scheduler: str
