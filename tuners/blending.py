"""Whether the model a run keeps is its chosen configuration alone or a blend with another
family's model, measured on cross-validation folds where that is cheap.

AutoGluon's edge on the tables where it led (wage, sacramento, randhie in bench/results/peers_30s.md)
is its weighted ensemble of different families (Caruana et al., "Ensemble selection from libraries
of models", ICML 2004). A linear model, a boosted tree ensemble and a random forest err differently:
the first is smooth and extrapolates, the second cuts the space into boxes each fitted to the errors
of the last, the third averages boxes grown independently. So before the refit the chosen
configuration and its family's partners (FamilyDef.blend_with, each at its partner configuration,
FamilyDef.partner_start, or else the start of its space, in order, the cheaper first, each only
while the check's time lasts) are fitted on 5 folds of their own (the next seed, as the bag check
does: on the search's folds the chosen configuration's score is the best of many, luckier than a
partner scored once); each partner's held-out predictions (class probabilities, or values) are
averaged with the chosen model's at the partner's weight on a grid of WEIGHTS, the weight with the
highest score over the folds is taken, the partner whose blend scores highest is taken, and that
blend replaces the chosen model only where it beats it by more than MARGIN_SE paired standard
errors fold by fold.
bench/results/blend.md measures the rule, its margin and what each partner adds; partner_start.md
what boosting brings to the linear model's blend; ensemble_size.md that a blend of all three tabular
families adds next to nothing over the pair (+0.49 test points against +0.47, 26 tables, 2 splits)."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from advisor.stats import paired_se
from advisor.types import Family
from tuners.data import Problem, take, validation_splits
from tuners.families.base import bounded, partner_config
from tuners.metrics import predicted_score
from tuners.records import TrialRecord

# The partner's weight in the blend: 0.1 to 0.9 (the chosen model alone is the alternative, the
# partner alone is another family, which the rules and the race decide).
WEIGHTS = tuple(round(0.1 * k, 1) for k in range(1, 10))
# The blend replaces the chosen model where it beats it by more than this many paired standard
# errors on the check's folds (the one-standard-error rule, as the search's anchors are kept).
# bench/results/blend.md (at commit dd56129, one partner a family) swept it over 112 set-split-families
# (the linear family at its defaults, boosting at the seeds' start, 18 tables on two splits): where the
# chosen family leads its partner in validation (51, the family a run keeps), 1 s.e. blends 22 and gains
# +0.31 test points on average (12 higher, 7 lower, worst -2.99: ad_data, 2 of 67 test rows); 0.5 s.e.
# +0.41 with 29 blends and 9 lower; 2 s.e. +0.05. The one-standard-error rule is kept, as elsewhere in
# the finish; with boosting's two partners (12 tables, the file now) 1 s.e. gains +0.53 (1 lower).
MARGIN_SE = 1.0
CHECK_SHARE = 0.1  # the check runs where its fits take at most this share of the search budget
METRICS = ("accuracy", "balanced_accuracy", "r2")  # what a blend is scored by (not clustering)


class Blend:
    """Fitted models' class probabilities (classification) or predictions (regression), averaged
    with `weights`; the first model is the run's chosen configuration. `manifests`: what each
    member's own manifest.json says beside the run's (family, format, configuration), for the export."""

    def __init__(self, models: list, weights: list[float], classes: bool, manifests: list[dict] | None = None):
        self.models, self.weights, self.classes, self.manifests = models, weights, classes, manifests or []

    def predict_proba(self, x) -> np.ndarray:
        return sum(w * m.predict_proba(x) for m, w in zip(self.models, self.weights))

    def predict(self, x) -> np.ndarray:
        if self.classes:
            return self.predict_proba(x).argmax(axis=1)
        return sum(w * np.asarray(m.predict(x), dtype=float) for m, w in zip(self.models, self.weights))


@dataclasses.dataclass(frozen=True)
class BlendChoice:
    partner: Family | None  # the family blended in, or None to keep the chosen model alone
    config: dict[str, Any] | None  # the partner's configuration
    weight: float  # the partner's weight (0 where none)
    check: dict[str, Any] | None  # result.json's model.blend; None where the family has no partner


def check_fits(folds: int) -> float:
    """The check's cost in fits of a fold's rows, priced for the first partner: both models on every
    fold, and the partner's refit. Further partners are fitted while the check's deadline allows."""
    return 2 * folds + 1


def worth_checking(per_fit_s: float, folds: int, budget_s: float) -> bool:
    return per_fit_s * check_fits(folds) <= CHECK_SHARE * budget_s


def check_reserve(blend: bool, per_fit_s: float, folds: int, budget_s: float) -> float:
    """Seconds the search keeps back for the check (0 where it will not run)."""
    return per_fit_s * check_fits(folds) if blend and worth_checking(per_fit_s, folds, budget_s) else 0.0


def choose_blend(definition, config: dict[str, Any], chosen: TrialRecord | None, problem: Problem, partner_defs,
                 budget_s: float, until: float | None) -> BlendChoice:
    """A blend of `config` (trial `chosen`'s) with the partner configuration of one of `partner_defs`
    (in order; the best blend of those fitted in time), or the chosen model alone. Runs where it
    costs at most CHECK_SHARE of `budget_s` at the chosen trial's seconds a fold, and stops by `until`
    (time.time()), or by twice its expected cost from now if later; the partners after the first
    end within the expected cost, or CHECK_SHARE of the budget if more, from their own start."""
    if not partner_defs:
        return BlendChoice(None, None, 0.0, None)
    named = ", ".join(p.family.value for p in partner_defs)
    if problem.metric not in METRICS or problem.y_train is None or len(problem.splits) < 2:
        return _alone(named, "not checked: one validation split gives no standard error to weigh a blend by")
    if chosen is None or chosen.status != "completed" or not chosen.seconds_per_fold:
        return _alone(named, "not checked: the chosen configuration has no score on every fold")
    cost = chosen.seconds_per_fold * check_fits(len(problem.splits))
    if not worth_checking(chosen.seconds_per_fold, len(problem.splits), budget_s):
        return _alone(named, f"not checked: it would take about {cost:.0f} s, over {CHECK_SHARE:.0%} of the budget")
    until = _check_deadline(until, cost, budget_s)
    fresh = validation_splits(len(problem.y_train), problem.y_train, problem.task, problem.seed + 1,
                              len(problem.splits))
    fresh_problem = dataclasses.replace(problem, splits=fresh)
    try:
        own = held_out(definition, config, fresh_problem, until)
        others = [(p, partner_config(p, problem)) for p in partner_defs] if own is not None else []
        held = [(p.family, c, held_out(p, c, fresh_problem, _later(until, cost, budget_s) if k else until))
                for k, (p, c) in enumerate(others)]
    except (ValueError, ArithmeticError, np.linalg.LinAlgError) as error:  # a check, not the run: it keeps the model
        return _alone(named, f"not checked: {type(error).__name__}: {(str(error).splitlines() or [''])[0][:200]}")
    fitted = [(family, c, out) for family, c, out in held if out is not None]
    if not fitted:
        return _alone(named, "not checked: the budget ended before the chosen model and a partner were scored on every "
                             "fold, or a fold's training rows lacked a class")
    return _decided(problem, fresh, own, fitted, [family.value for family, _, out in held if out is None])


def _check_deadline(until: float | None, cost: float, budget_s: float) -> float:
    """When the check gives up: CHECK_SHARE of the budget from now (or twice its expected cost, if
    more), and no later than the run's `until` allows, which Ray's stop may have eaten into: then
    twice the expected cost from now. The cost is priced at the chosen trial's fits, and the partner
    may be slower (boosting beside a linear model on 10,000 rows: 16 s runs took 32 s before this)."""
    now = time.time()
    deadline = now + max(2 * cost, CHECK_SHARE * budget_s)
    return deadline if until is None else min(deadline, max(until, now + 2 * cost))


def _later(until: float, cost: float, budget_s: float) -> float:
    """A partner after the first ends within the check's expected cost, or CHECK_SHARE of the budget if
    more, from its own start (no slack), and by `until`. From the check's start, boston's forest (5
    folds of 300 trees, about 1.5 s) was left no time after the other fits in a run that ended 12 s
    before its budget, and its blend (test R^2 0.706 -> 0.729) came and went with the machine's load."""
    return min(until, time.time() + max(cost, CHECK_SHARE * budget_s))


def held_out(definition, config: dict[str, Any], problem: Problem, until: float | None) -> np.ndarray | None:
    """The model's predictions for each training row from the fold that leaves it out (class
    probabilities or values), or None where the folds left would end past `until` at the pace of
    the folds done, where a fold's fit ended past it (a family with a deadline stops there), or
    where a fold's model lacks a class (a class of fewer rows than folds)."""
    width = (len(problem.classes),) if problem.classes else ()
    found = np.zeros((len(problem.y_train),) + width)
    started = time.time()
    for done, (train, valid) in enumerate(problem.splits):
        pace = (time.time() - started) / done if done else 0.0
        if until is not None and time.time() + pace * (len(problem.splits) - done) > until:
            return None
        model = bounded(definition.build(config, problem), until).fit(take(problem.x_train, train), problem.y_train[train])
        if until is not None and time.time() > until:  # a fit the deadline cut short is not the model to blend
            return None
        out = output_of(model, take(problem.x_train, valid), bool(problem.classes))
        if out.shape[1:] != width:
            return None
        found[valid] = out
    return found


def output_of(model, x, classes: bool) -> np.ndarray:
    """A fitted model's class probabilities (classification) or values (regression) for `x`."""
    return model.predict_proba(x) if classes else np.asarray(model.predict(x), dtype=float)


def fold_scores(metric: str, y: np.ndarray, output: np.ndarray, splits) -> np.ndarray:
    """The score of held-out `output` on each fold's rows."""
    return np.array([score_output(metric, y[valid], output[valid]) for _, valid in splits])


def score_output(metric: str, y: np.ndarray, output: np.ndarray) -> float:
    """`metric` of held-out output: values (r2), or class probabilities scored by their most likely class."""
    return predicted_score(metric, y, output if metric == "r2" else output.argmax(axis=1))


def _decided(problem: Problem, splits, own: np.ndarray, fitted: list, missed: list[str]) -> BlendChoice:
    """Each fitted partner's weight with the highest score over the folds, and of those the best
    blend; kept only where it beats the chosen model alone by more than MARGIN_SE paired standard
    errors. `fitted`: (family, start configuration, held-out output); `missed`: partners not fitted in time."""
    y = problem.y_train
    alone = fold_scores(problem.metric, y, own, splits)
    found = [_best_weight(problem.metric, y, splits, own, family, c, other) for family, c, other in fitted]
    best = max(found, key=lambda f: (f["blend"].mean(), -found.index(f)))
    partner, weight = best["family"], best["weight"]
    sem = paired_se(best["blend"], alone)
    take_blend = best["blend"].mean() - alone.mean() > MARGIN_SE * sem
    scores = (f"over {len(splits)} folds of their own the chosen model scored {alone.mean():.4f}, {partner.value}'s "
              f"blend start {best['alone'].mean():.4f}, the two blended with {partner.value} at {weight:.0%} "
              f"{best['blend'].mean():.4f}")
    others = [f"{f['family'].value}'s best blend {f['blend'].mean():.4f}" for f in found if f is not best]
    others += [f"{name} was not fitted in time" for name in missed]
    scores += f" ({'; '.join(others)})" if others else ""
    margin = f"{MARGIN_SE:g} standard error of the differences ({MARGIN_SE * sem:.4f})"
    reason = (f"{scores}, better than the chosen model alone by more than {margin}: the blend is kept" if take_blend
              else f"{scores}: the chosen model is kept alone (the blend is not better by more than {margin})")
    check = {"kept": "blend" if take_blend else "alone", "partner": partner.value, "weight": weight if take_blend else 0.0,
             "best_weight": weight,
             "scores": {"alone": round(float(alone.mean()), 6), "partner": round(float(best["alone"].mean()), 6),
                        "blend": round(float(best["blend"].mean()), 6)},
             "sem": round(sem, 6), "folds": len(splits), "reason": reason,
             "partners": [_partner_record(f, alone) for f in found] + [{"family": name, "scores": None} for name in missed]}
    if not take_blend:
        return BlendChoice(None, None, 0.0, check)
    return BlendChoice(partner, best["config"], weight, dict(check, partner_config=best["config"]))


def _best_weight(metric: str, y: np.ndarray, splits, own: np.ndarray, family: Family, config: dict[str, Any],
                 other: np.ndarray) -> dict[str, Any]:
    """The partner's weight whose blend scores highest over the folds (the lighter on a tie)."""
    blends = {w: fold_scores(metric, y, (1 - w) * own + w * other, splits) for w in WEIGHTS}
    weight = max(WEIGHTS, key=lambda w: (blends[w].mean(), -w))
    return {"family": family, "config": config, "weight": weight, "blend": blends[weight],
            "alone": fold_scores(metric, y, other, splits)}


def _partner_record(found: dict[str, Any], alone: np.ndarray) -> dict[str, Any]:
    """result.json's model.blend.partners entry: the partner's scores, and its blend's paired
    standard error against the chosen model alone."""
    return {"family": found["family"].value, "best_weight": found["weight"],
            "scores": {"partner": round(float(found["alone"].mean()), 6), "blend": round(float(found["blend"].mean()), 6)},
            "sem": round(paired_se(found["blend"], alone), 6)}


def _alone(partners: str, reason: str) -> BlendChoice:
    return BlendChoice(None, None, 0.0, {"kept": "alone", "partner": partners, "weight": 0.0, "best_weight": None,
                                         "scores": None, "sem": None, "folds": 0, "reason": reason, "partners": []})
