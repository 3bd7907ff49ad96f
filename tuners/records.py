"""One trial as every backend records it: what result.json lists under "trials"."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable


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

    @property
    def seconds_per_fold(self) -> float | None:
        """What one fit of a fold's rows cost this trial: the price of the fits after the search."""
        return None if not self.seconds else self.seconds / max(1, self.folds_done)


def error_text(error: BaseException) -> str:
    """A failed trial's error in one line (the last line of the message, at most 500 characters)."""
    cause = getattr(error, "cause", None) or error
    lines = [line for line in f"{type(cause).__name__}: {cause}".splitlines() if line.strip()]
    return lines[-1][:500] if lines else type(cause).__name__


def best_finished(trials: list[dict[str, Any]], chosen: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
    """The highest-scoring of the `chosen` trials (result.json's dicts) that finished every fold."""
    done = [t for t in trials if chosen(t) and t["status"] == "completed" and t["score"] is not None]
    return max(done, key=lambda t: t["score"]) if done else None


def beats_beyond_noise(challenger: dict[str, Any], incumbent: dict[str, Any]) -> tuple[bool, float, float]:
    """(whether `challenger` beats `incumbent` by more than one standard error, the margin, that
    standard error: the larger of the two's over the folds). The one-standard-error rule the family
    race and the rnn family's duel decide by (Hastie, Tibshirani and Friedman, ESL 7.10)."""
    margin = challenger["score"] - incumbent["score"]
    sem = max(incumbent.get("score_sem") or 0.0, challenger.get("score_sem") or 0.0)
    return margin > sem, margin, sem
