"""The typed progress events of a run. The pipeline and every tuning backend emit these and only
these, the same way, so each front end (the CLI's progress line, the batch index, the service)
reads one stream. `to_json` gives an event's wire form: {"event": its name, ...its fields}."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Union


@dataclasses.dataclass(frozen=True)
class RunStarted:
    run_dir: str
    data: str
    budget_s: float
    tune: bool


@dataclasses.dataclass(frozen=True)
class StageStarted:
    stage: str  # the pre-search step ("duel"), "anchors", then the backend's stages
    budget_s: float  # what the stage may spend at most


@dataclasses.dataclass(frozen=True)
class TrialFinished:
    stage: str
    trial_id: str | None
    status: str  # completed, stopped or failed
    score: float | None
    counts: dict[str, int]  # the stage's trials so far: {"running", "done", "failed"}


@dataclasses.dataclass(frozen=True)
class BestSoFar:
    stage: str
    score: float  # the best validation score reported so far in the run


@dataclasses.dataclass(frozen=True)
class StageFinished:
    stage: str
    trials: int


@dataclasses.dataclass(frozen=True)
class RunFinished:
    run_dir: str
    family: str
    metric: str | None
    test_score: float | None


@dataclasses.dataclass(frozen=True)
class RunFailed:
    error: str


Event = Union[RunStarted, StageStarted, TrialFinished, BestSoFar, StageFinished, RunFinished, RunFailed]
OnEvent = Callable[[Event], None]
EVENTS = {cls.__name__: cls for cls in (RunStarted, StageStarted, TrialFinished, BestSoFar, StageFinished,
                                        RunFinished, RunFailed)}


def to_json(event: Event) -> dict[str, Any]:
    return {"event": type(event).__name__, **dataclasses.asdict(event)}


def from_json(values: dict[str, Any]) -> Event:
    fields = dict(values)
    return EVENTS[fields.pop("event")](**fields)


class TrialStream:
    """What a backend calls as its trials report and end: it keeps the best score so far and sends
    TrialFinished and BestSoFar events. One per run; stages share it so the best is the run's."""

    def __init__(self, on_event: OnEvent | None):
        self.on_event = on_event
        self.best: float | None = None

    def send(self, event: Event) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def reported(self, stage: str, score: float | None) -> None:
        if score is not None and score == score and (self.best is None or score > self.best):
            self.best = score
            self.send(BestSoFar(stage, score))

    def finished(self, stage: str, trial_id: str | None, status: str, score: float | None,
                 counts: dict[str, int]) -> None:
        self.reported(stage, score)
        self.send(TrialFinished(stage, trial_id, status, score, dict(counts)))
