"""Whether the model a run keeps is its family's bag (FamilyDef.bag) or one model, measured on
cross-validation folds where that is cheap.

A bag's members each learn from 4/5 of the rows. Over 56 configurations on 14 sets the bag of 5
gained +0.39 test points at the median (bench/results/boosting_refit.md), so it stays the rule; but
where the score still climbs steeply with rows it can lose (chirps_wide's second split: XGBoost's
defaults scored 0.95 on the test rows as one model, 0.775 as a bag). So before the refit the chosen
configuration is fitted both ways on each of 5 folds of their own, and one model replaces the bag only
where it beats the bag by more than half the standard error of their differences fold by fold (MARGIN_SE).
bench/results/bag_check.md measures the rule and its margin: the bag's score being merely lower on
the search's folds, the first rule tried, lost test points on mcycle and attrition."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from advisor.stats import paired_se
from tuners.data import Problem, take, validation_splits
from tuners.metrics import score
from tuners.records import TrialRecord

# The check runs where its fits take at most this share of the search budget (time the search
# gives up): on the small tables, where a bag's fewer rows per member matter most. Elsewhere the
# bag is kept, as measured.
CHECK_SHARE = 0.1
# One model replaces the bag where, on the check's folds, it beats it by more than this many paired
# standard errors. bench/results/bag_check.md sweeps it over 84 configurations on 28 set-splits:
# 1 SE +0.11 test points on average against always the bag, 0.5 SE +0.27 (+0.45 over the defaults
# and the seeds' start, the configurations runs keep most) with the same worst loss there (-0.53),
# 0.25 SE +0.31 (the same worst; more switches away from the bag, the measured rule, for +0.04),
# 0 (the higher mean) +0.28 but -2.28 on attrition. At 1 SE chirps_wide's second split kept the
# bag of XGBoost's defaults, 0.775 on the test rows, where one model scored 0.95.
MARGIN_SE = 0.5
MEMBER_ROWS = 0.8  # a member of a bag of 5 learns from 4/5 of the rows it is given


def check_fits(folds: int, bag: int) -> float:
    """The check's cost in fits of a fold's rows: on every fold, one model and a bag whose members
    each learn from 4/5 of its rows."""
    return folds * (1 + bag * MEMBER_ROWS)


def worth_checking(per_fit_s: float, folds: int, bag: int, budget_s: float) -> bool:
    return bag >= 2 and per_fit_s * check_fits(folds, bag) <= CHECK_SHARE * budget_s


@dataclasses.dataclass(frozen=True)
class BagChoice:
    members: int  # the bag's size, or 0 for one model fitted on all rows
    check: dict[str, Any] | None  # result.json's model.bag_check; None where the family keeps no bag


def choose_bag(definition, config: dict[str, Any], chosen: TrialRecord | None, problem: Problem, budget_s: float,
               until: float | None) -> BagChoice:
    """A bag of FamilyDef.bag or one model for `config`, the configuration of trial `chosen` (whose
    seconds a fold price the check). The check runs where it costs at most CHECK_SHARE of
    `budget_s` and stops by `until` (time.time()), or by twice its expected cost from now if later."""
    bag = definition.bag
    if bag < 2:
        return BagChoice(0, None)
    folds = len(problem.splits)
    if chosen is None or chosen.status != "completed" or chosen.score is None or not chosen.seconds:
        return _kept(bag, "the chosen configuration has no score on every fold to compare a bag with")
    if folds < 2 or problem.y_train is None:
        return _kept(bag, "not checked: one validation split gives no standard error to weigh the difference by")
    per_fit = chosen.seconds_per_fold
    cost = per_fit * check_fits(folds, bag)
    if not worth_checking(per_fit, folds, bag, budget_s):
        return _kept(bag, f"not checked: a bag on every fold would take about {cost:.0f} s, over "
                          f"{CHECK_SHARE:.0%} of the budget")
    # Ray's stop can eat the little the search kept back for a cheap check: it may run past `until`
    # by as long again as it is expected to take, within the run's allowance (--budget x 1.1 + 30 s).
    until = None if until is None else max(until, time.time() + 2 * cost)
    # Folds of their own (the next seed): on the search's folds the chosen configuration's one-model
    # score is the best of many, luckier than its bag's (mcycle's first split: one model 0.6965, the
    # bag 0.6732 there; one model kept, 0.610 on the test rows, where the peers scored 0.637 and 0.653).
    fresh = validation_splits(len(problem.y_train), problem.y_train, problem.task, problem.seed + 1, folds)
    scores = _fold_scores(definition, config, dataclasses.replace(problem, splits=fresh), bag, until)
    if scores is None:
        return _kept(bag, "not checked: the budget ended before both were scored on every fold")
    return _decided(bag, *scores)


def _fold_scores(definition, config, problem: Problem, bag: int, until: float | None):
    """(the bag's score on each fold, one model's), or None once `until` passes."""
    bagged, one = [], []
    for train, valid in problem.splits:
        if until is not None and time.time() > until:
            return None
        x_train, y_train = take(problem.x_train, train), problem.y_train[train]
        x_valid, y_valid = take(problem.x_train, valid), problem.y_train[valid]
        for members, found in ((bag, bagged), (0, one)):
            model = definition.build(config, problem)
            if members:
                model.set_params(model__bag=members)
            found.append(score(problem.metric, model.fit(x_train, y_train), x_valid, y_valid))
    return np.array(bagged), np.array(one)


def _kept(bag: int, reason: str) -> BagChoice:
    return BagChoice(bag, {"kept": "bag", "bag": None, "one": None, "sem": None, "folds": 0, "reason": reason})


def one_model_wins(one: float, bagged: float, sem: float, margin: float = MARGIN_SE) -> bool:
    """The check's rule: one model's mean beats the bag's by more than `margin` paired standard errors."""
    return one - bagged > margin * sem


def _decided(bag: int, bagged: np.ndarray, one: np.ndarray) -> BagChoice:
    """One model only where it beats the bag by more than MARGIN_SE paired standard errors."""
    sem = paired_se(one, bagged)
    keep = not one_model_wins(float(one.mean()), float(bagged.mean()), sem)
    scores = (f"over {len(one)} folds of its own a bag of {bag} scored {bagged.mean():.4f}, one model "
              f"{one.mean():.4f}")
    margin = f"{MARGIN_SE:g} standard error of the differences ({MARGIN_SE * sem:.4f})"
    reason = (f"{scores}: the bag is kept (one model is not better by more than {margin})" if keep else
              f"{scores}, better by more than {margin}: one model is kept, fitted on all rows")
    return BagChoice(bag if keep else 0, {"kept": "bag" if keep else "one", "bag": round(float(bagged.mean()), 6),
                                          "one": round(float(one.mean()), 6), "sem": round(sem, 6),
                                          "folds": len(one), "reason": reason})


def check_reserve(per_fit_s: float, folds: int, bag: int, budget_s: float) -> float:
    """Seconds the search keeps back for the check (0 where it will not run)."""
    return per_fit_s * check_fits(folds, bag) if worth_checking(per_fit_s, folds, bag, budget_s) else 0.0

