"""When a search has converged: its best validation score has not risen by more than that score's
standard error over the folds in the last `patience` trials that ended, each having finished every
fold or been stopped by ASHA at a rung (below the better third there, it did not raise the best). Both
backends then stop the stage (Ray Tune through a Stopper, KerasTuner before its next trial), the
search ends there with the budget left unspent, and `tuning.stopped_early` says so.
`--budget` stays the upper bound; `--patience 0` never stops early. The default patience is
measured in bench/results/convergence.md (bench/convergence.py), which replays a whole search's
trials in the order they finished: so one watch runs over every stage of a search, and once it
has converged the later stages (Ray Tune's fine stage) are not run. A converged random stage handing
over to the fine stage instead was measured beside the peers and not kept: test scores level, runs
longer (bench/results/convergence_handover.md)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

# Ended trials without a rise beyond one standard error. bench/results/convergence.md (21 sets, 45 s
# each, replayed; 10 of boosting, whose searches ASHA prunes): 20 is the smallest patience that
# stopped within one standard error of the final best on every run, saving a median 83% of the
# search's time where it stopped; 10 did not (interactions, chirps_wide). Counting only trials that
# finished every fold, a 30 s boosting search on a 500-row table saw 19 of them in 125 and never stopped.
PATIENCE = 20


@dataclasses.dataclass
class Convergence:
    """The state of one stage's watch over its finished trials (one per stage, never shared)."""

    patience: int = PATIENCE  # 0: never converged
    best: float | None = None
    best_sem: float = 0.0
    since: int = 0  # finished trials since the best last rose beyond its standard error
    seen: int = 0  # trials that finished every fold
    stopped: int = 0  # trials stopped before their last fold once a best was known

    def passed(self) -> bool:
        """Take one trial the scheduler (ASHA) stopped before its last fold: it was below the better
        third at a rung, so it did not raise the best. True once the stage has converged."""
        if self.best is not None:
            self.since += 1
            self.stopped += 1
        return self.converged

    def update(self, score: float | None, sem: float | None) -> bool:
        """Take one trial that finished every fold; True once the stage has converged."""
        if score is None or not math.isfinite(score):
            return self.converged
        self.seen += 1
        if self.best is None or score > self.best + self.best_sem:
            self.best, self.best_sem, self.since = score, float(sem or 0.0), 0
        else:
            self.since += 1
            self.best = max(self.best, score)
        return self.converged

    @property
    def converged(self) -> bool:
        return self.patience > 0 and self.since >= self.patience

    def feed(self, records) -> None:
        """Take a finished stage's trials (TrialRecord) in the order they finished: a resumed run's watch.
        A trial the budget cut short is recorded "stopped" as ASHA's are, and counts as they do:
        neither raised the best."""
        ended = [r for r in records if r.status in ("completed", "stopped")]
        for record in sorted(ended, key=lambda r: r.finished_at or 0):
            if record.status == "completed":
                self.update(record.score, record.score_sem)
            else:
                self.passed()

    def record(self, stage: str, skipped: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
        """For tuning.stopped_early: which stage stopped, after how many trials, why, and the later
        stages that were not run because of it."""
        later = f"; the search ended there ({', '.join(skipped)} not run)" if skipped else ""
        return {"stage": stage, "after_trials": self.seen + self.stopped, "patience": self.patience, "best": self.best,
                "skipped": list(skipped),
                "reason": (f"the best validation score ({self.best:.4f}) did not rise by more than one standard error "
                           f"({self.best_sem:.4f}) over the last {self.patience} trials (each finished every fold or "
                           "was stopped by ASHA below the better third)" + later)}
