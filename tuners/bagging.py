"""Whether the model a run keeps is its family's bag (FamilyDef.bag) or one model, measured on the
search's own folds where that is cheap.

A bag's members each learn from 4/5 of the rows. Over 56 configurations on 14 sets the bag of 5
gained +0.39 test points at the median (bench/results/boosting_refit.md), but where the score still
climbs steeply with rows it loses: on chirps_wide's second split (160 training rows) XGBoost's
defaults scored 0.95 on the test rows as one model and 0.775 as a bag, whose members alone scored
0.775 to 0.95. So before the refit the chosen configuration is scored as a bag on the same folds
its trials were scored on, and the bag is kept only where it scores at least what the one model
scored there (bench/results/bag_check.md measures the choice)."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from tuners.data import Problem
from tuners.evaluation import evaluate_with
from tuners.records import TrialRecord

# The check runs where its fits take at most this share of the search budget: on the small tables,
# where a bag's fewer rows per member matter most. Elsewhere the bag is kept, as measured.
CHECK_SHARE = 0.25
MEMBER_ROWS = 0.8  # a member of a bag of 5 learns from 4/5 of the rows it is given


def check_fits(folds: int, bag: int) -> float:
    """The check's cost in fits of a fold's rows: a bag on every fold, each member on 4/5 of its rows."""
    return folds * bag * MEMBER_ROWS


def worth_checking(per_fit_s: float, folds: int, bag: int, budget_s: float) -> bool:
    return bag >= 2 and per_fit_s * check_fits(folds, bag) <= CHECK_SHARE * budget_s


@dataclasses.dataclass(frozen=True)
class BagChoice:
    members: int  # the bag's size, or 0 for one model fitted on all rows
    check: dict[str, Any] | None  # result.json's model.bag_check; None where the family keeps no bag


def choose_bag(definition, config: dict[str, Any], chosen: TrialRecord | None, problem: Problem, budget_s: float,
               until: float | None) -> BagChoice:
    """A bag of FamilyDef.bag or one model for `config`, whose trial `chosen` scored it as one model
    on problem.splits. The check runs where it costs at most CHECK_SHARE of `budget_s` and stops
    by `until` (time.time()), or by twice its expected cost from now if that is later."""
    bag = definition.bag
    if bag < 2:
        return BagChoice(0, None)
    folds = len(problem.splits)
    if chosen is None or chosen.status != "completed" or chosen.score is None or not chosen.seconds:
        return _kept(bag, "the chosen configuration has no score on every fold to compare a bag with")
    per_fit = chosen.seconds / max(1, chosen.folds_done)
    cost = per_fit * check_fits(folds, bag)
    if not worth_checking(per_fit, folds, bag, budget_s):
        return _kept(bag, f"not checked: a bag on every fold would take about {cost:.0f} s, over "
                          f"{CHECK_SHARE:.0%} of the budget")
    # Ray's stop can eat the little the search kept back for a cheap check: it may run past `until`
    # by as long again as it is expected to take, within the run's allowance (--budget x 1.1 + 30 s).
    until = None if until is None else max(until, time.time() + 2 * cost)
    reports: list[dict] = []
    bagged = dataclasses.replace(definition, build=lambda c, p: definition.build(c, p).set_params(model__bag=bag))
    evaluate_with(bagged, config, reports.append, problem, deadline=until)
    if not reports or reports[-1]["folds_done"] < folds or (until is not None and time.time() > until):
        return _kept(bag, "not checked: the budget ended before the bag was scored on every fold")
    return _decided(bag, reports[-1]["score"], chosen.score, folds)


def _kept(bag: int, reason: str) -> BagChoice:
    return BagChoice(bag, {"kept": "bag", "bag": None, "one": None, "folds": 0, "reason": reason})


def _decided(bag: int, bag_score: float, one_score: float, folds: int) -> BagChoice:
    scores = f"a bag of {bag} scored {bag_score:.4f} over the search's {folds} folds, one model {one_score:.4f}"
    keep = bag_score >= one_score
    reason = f"{scores}: the bag is kept" if keep else f"{scores}: one model is kept, fitted on all rows"
    return BagChoice(bag if keep else 0, {"kept": "bag" if keep else "one", "bag": round(bag_score, 6),
                                          "one": round(one_score, 6), "folds": folds, "reason": reason})


def check_reserve(per_fit_s: float, folds: int, bag: int, budget_s: float) -> float:
    """Seconds the search keeps back for the check (0 where it will not run)."""
    return per_fit_s * check_fits(folds, bag) if worth_checking(per_fit_s, folds, bag, budget_s) else 0.0

