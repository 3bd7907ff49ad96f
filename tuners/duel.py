"""The LSTM-vs-GRU duel (seed 001, RNN hyperparameters: 'Try both, only on a random subset of the
data'). Before the full search, both cells train the same configurations on the same seeded random
subset of the training series, with the same validation folds; the better cell is then tuned with
the rest of the budget. Pairing the configurations makes the comparison about the cell alone.

The winner is the higher best validation score; LSTM must beat GRU by more than one standard
error over the folds, otherwise GRU (fewer gates, fewer weights) wins the tie.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from tuners.data import Problem, subset
from tuners.presearch import PreSearch
from tuners.records import beats_beyond_noise, best_finished
from tuners.space import Choice, Param, Space

SUBSET_SHARE = 0.5  # of the training series
SUBSET_MIN = 100  # series; a smaller training set duels on all of it
SUBSET_MAX = 5_000
BUDGET_SHARE = 0.3  # of the run's budget, for both cells together
FOLDS = 3  # cross-validation folds on the subset: enough to see noise, cheap enough to finish
PAIRS = 4  # configurations tried with each cell: the seeds' start and three random ones
CHEAP, DEAR = "gru", "lstm"


@dataclasses.dataclass(frozen=True)
class DuelPlan:
    problem: Problem  # the subset, with its own folds
    subset_rows: int
    seed: int
    points: tuple[dict[str, Any], ...]  # each configuration twice, once per cell


def plan(problem: Problem, space: Space, seed: int, pairs: int = PAIRS) -> DuelPlan:
    """The subset and the paired configurations, all drawn from `seed`: a rerun duels identically."""
    part = subset(problem, seed, SUBSET_SHARE, SUBSET_MIN, SUBSET_MAX, FOLDS)
    rng = np.random.default_rng([seed, 1])  # the configurations: a stream apart from the subset's draw
    configs = [dict(space.start)] + [space.sample(rng) for _ in range(max(0, pairs - 1))]
    points = tuple(dict(config, cell=cell) for config in configs for cell in (CHEAP, DEAR))
    return DuelPlan(part, len(part.y_train), seed, points)


def decide(trials: list[dict[str, Any]], subset_rows: int, seed: int) -> dict[str, Any]:
    """The duel's record for result.json: both cells' best scores, the winner and why."""
    best = {cell: best_finished(trials, lambda t, cell=cell: t["config"].get("cell") == cell) for cell in (CHEAP, DEAR)}
    scores = {cell: (None if best[cell] is None else round(best[cell]["score"], 6)) for cell in (DEAR, CHEAP)}
    cheap, dear = best[CHEAP], best[DEAR]
    if cheap is None and dear is None:
        winner, reason = CHEAP, "no duel trial finished in its budget share; GRU, the cheaper cell, is kept by default"
    elif dear is None:
        winner, reason = CHEAP, "no LSTM trial finished; GRU did"
    elif cheap is None:
        winner, reason = DEAR, "no GRU trial finished; LSTM did"
    else:
        wins, margin, sem = beats_beyond_noise(dear, cheap)
        if wins:
            winner = DEAR
            reason = (f"LSTM's best validation score {dear['score']:.4f} beats GRU's {cheap['score']:.4f} by {margin:.4f}, "
                      f"more than one standard error ({sem:.4f})")
        else:
            winner = CHEAP
            how = "beats" if margin < 0 else ("ties with" if math.isclose(margin, 0.0, abs_tol=1e-12) else "is within one standard error of")
            reason = (f"GRU's best validation score {cheap['score']:.4f} {how} LSTM's {dear['score']:.4f} "
                      f"(one standard error: {sem:.4f}); ties go to the cheaper GRU")
    return {"subset_rows": subset_rows, "seed": seed, "scores": scores, "winner": winner, "reason": reason,
            "trials": trials}


def fix_cell(space: Space, winner: str) -> Space:
    """The search space for the rest of the run: the duel's winner as the only cell."""
    params = dict(space.params)
    params["cell"] = Param(Choice((winner,)), f"{space.params['cell'].why}; settled by the duel: {winner}")
    return Space(params, start=dict(space.start, cell=winner))


def plan_for(problem: Problem, space: Space, seed: int, trials: int | None) -> DuelPlan:
    """The plan within a --trials limit: a quarter of it at most goes to the duel's pairs."""
    return plan(problem, space, seed, PAIRS if trials is None else min(PAIRS, max(1, trials // 4)))


DUEL = PreSearch(name="duel", budget_share=BUDGET_SHARE, plan=plan_for,
                 decide=lambda trials, duel_plan: decide(trials, duel_plan.subset_rows, duel_plan.seed),
                 settle=lambda space, record: fix_cell(space, record["winner"]))
