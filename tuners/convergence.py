"""When a search has converged: its best validation score has not risen by more than that score's
standard error over the folds in the last `patience` trials that finished every fold. Both
backends then stop the stage (Ray Tune through a Stopper, KerasTuner before its next trial), the
search ends there with the budget left unspent, and `tuning.stopped_early` says so.
`--budget` stays the upper bound; `--patience 0` never stops early. The default patience is
measured in bench/results/convergence.md (bench/convergence.py), which replays a whole search's
trials in the order they finished: so one watch runs over every stage of a search, and once it
has converged the later stages (Ray Tune's fine stage) are not run."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

# Finished trials without a rise beyond one standard error. bench/results/convergence.md (10 sets,
# 45 s each, replayed): every patience from 10 to 120 stopped within one standard error of the final
# best on all 10 runs; 10 would have saved a median 95% of the search's time, 20 92%. 20 is kept,
# twice the smallest, because 10 runs (8 of the linear family) are a small corpus.
PATIENCE = 20


@dataclasses.dataclass
class Convergence:
    """The state of one stage's watch over its finished trials (one per stage, never shared)."""

    patience: int = PATIENCE  # 0: never converged
    best: float | None = None
    best_sem: float = 0.0
    since: int = 0  # finished trials since the best last rose beyond its standard error
    seen: int = 0

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
        """Take a finished stage's trials (TrialRecord) in the order they finished: a resumed run's watch."""
        done = [r for r in records if r.status == "completed"]
        for record in sorted(done, key=lambda r: r.finished_at or 0):
            self.update(record.score, record.score_sem)

    def record(self, stage: str, skipped: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
        """For tuning.stopped_early: which stage stopped, after how many trials, why, and the later
        stages that were not run because of it."""
        later = f"; the search ended there ({', '.join(skipped)} not run)" if skipped else ""
        return {"stage": stage, "after_trials": self.seen, "patience": self.patience, "best": self.best,
                "skipped": list(skipped),
                "reason": (f"the best validation score ({self.best:.4f}) did not rise by more than one standard error "
                           f"({self.best_sem:.4f}) over the last {self.patience} trials that finished every fold"
                           + later)}
