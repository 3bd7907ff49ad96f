"""One trial as every backend records it: what result.json lists under "trials"."""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class TrialRecord:
    trial_id: str
    stage: str
    config: dict[str, Any]
    score: float | None
    status: str  # "completed", "stopped" (by the scheduler or the budget) or "failed"
    error: str | None
    node_id: str | None
    seconds: float | None
    folds_done: int
    score_sem: float | None = None  # standard error of the mean over the validation folds
    finished_at: float | None = None  # unix time of the trial's last report
    curve: list[list[float | None]] | None = None  # [step, train loss, validation loss] on the first fold
    curve_best: int | None = None  # the step whose weights/trees were kept by early stopping
    epochs: int | None = None  # the epoch budget Hyperband gave the trial (KerasTuner backend); None: the full budget
    population: str | None = None  # the Ray trial that trained this configuration together with others


def error_text(error: BaseException) -> str:
    """A failed trial's error in one line (the last line of the message, at most 500 characters)."""
    cause = getattr(error, "cause", None) or error
    lines = [line for line in f"{type(cause).__name__}: {cause}".splitlines() if line.strip()]
    return lines[-1][:500] if lines else type(cause).__name__
