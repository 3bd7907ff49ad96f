"""Scoring one configuration, or a population of them, on every validation fold: the unit of work
every backend's trials run (Ray Tune's trainable, KerasTuner's run_trial), so the backends' scores
compare."""

from __future__ import annotations

import math
import time
from typing import Any, Callable

import numpy as np

from advisor.types import Family
from tuners import population_space
from tuners.data import Problem, take
from tuners.families import family_def
from tuners.families.base import DivergedError, bounded
from tuners.metrics import score

CURVE_POINTS = 200  # learning-curve points kept per trial, for the report


def evaluate(config: dict[str, Any], report: Callable[[dict], None], problem: Problem, family: str,
             tuner: str = "ray", deadline: float | None = None) -> None:
    """Score one configuration, or a population's members (population_space.members), on every
    validation fold, reporting the running mean after each.

    Members are fitted together on each fold (FamilyDef.fit_members) and scored one by one; a report
    carries each member's running mean under "members", and its "score" is the best member's, which
    is what the scheduler sees of the trial. A member that diverges drops out alone; a plain
    configuration that diverges fails its trial.

    `deadline` (time.time()) is just before the stage's budget ends: a family that trains in epochs
    or rounds stops there with its best epoch so far and starts no new fold (it has reported the
    folds it finished), so a slow family (a CNN on CPU) still reports a score instead of being cut
    off with none. Other families fit all at once and ignore it: Ray lets their last fits finish,
    and a trial must report before it ends (Ray fails a stage on one that does not)."""
    evaluate_with(family_def(Family(family), tuner), config, report, problem, deadline)


def evaluate_with(definition, config: dict[str, Any], report: Callable[[dict], None], problem: Problem,
                  deadline: float | None = None) -> None:
    """`evaluate` with the family's definition given (a benchmark's variant of it)."""
    population = population_space.members(config)
    configs = population or [config]
    scores: list[list[float]] = [[] for _ in configs]
    errors: list[str | None] = [None] * len(configs)
    curves: list[dict] = [{} for _ in configs]
    for fold, (train, valid) in enumerate(problem.splits, start=1):
        if deadline is not None and definition.iterative and fold > 1 and time.time() >= deadline:
            return
        alive = [i for i, error in enumerate(errors) if error is None]
        y_train = None if problem.y_train is None else problem.y_train[train]
        y_valid = None if problem.y_train is None else problem.y_train[valid]
        models = [bounded(definition.build(configs[i], problem), deadline) for i in alive]
        x_valid, scorers = take(problem.x_train, valid), models
        if population:
            fitted = definition.fit_members(models, take(problem.x_train, train), y_train)
            # The members share one fitted preprocessing: transform the validation rows once.
            x_valid, scorers = models[0][:-1].transform(x_valid), [model[-1] for model in models]
        else:
            fitted = [None]
            models[0].fit(take(problem.x_train, train), y_train)
        for i, model, scorer, error in zip(alive, models, scorers, fitted):
            value = math.nan if error else score(problem.metric, scorer, x_valid, y_valid)
            if not error and not math.isfinite(value):
                error = f"DivergedError: validation {problem.metric} is {value} on fold {fold}"
                if not population:
                    raise DivergedError(f"validation {problem.metric} is {value} on fold {fold}")
            if error:
                errors[i] = error
                continue
            scores[i].append(value)
            if fold == 1:  # the first fold's learning curve stands for the trial in the report
                curves[i] = learning_curve(model[-1])
        last = fold == len(problem.splits)
        if population:
            if all(errors):
                raise DivergedError(f"every member of the population failed; the first: {errors[0]}")
            members = [{"slot": i, "score": float(np.mean(s)) if s and not errors[i] else None, "score_sem": _sem(s),
                        "folds_done": len(s), "error": errors[i], **curves[i]} for i, s in enumerate(scores)]
            leader = max((m for m in members if m["score"] is not None), key=lambda m: m["score"])
            report({"score": leader["score"], "score_sem": leader["score_sem"], "folds_done": fold,
                    "done_all_folds": last, "members": members})
        elif definition.iterative or last:  # per-fold reports feed ASHA; each costs Tune bookkeeping
            report({"score": float(np.mean(scores[0])), "score_sem": _sem(scores[0]), "folds_done": fold,
                    "done_all_folds": last, **curves[0]})


def _sem(scores: list[float]) -> float | None:
    return float(np.std(scores, ddof=1) / np.sqrt(len(scores))) if len(scores) > 1 else None


def learning_curve(estimator) -> dict[str, Any]:
    """{"curve": [[step, train loss or None, validation loss], ...], "curve_best": the step kept} for
    models that train in steps (torch epochs, boosting rounds), at most CURVE_POINTS points; else {}."""
    if hasattr(estimator, "history_"):
        points, best = [list(h) for h in estimator.history_], estimator.best_epoch_
    elif hasattr(estimator, "evals_result_") and hasattr(estimator, "best_iteration_"):
        history = estimator.evals_result_  # boosting's early-stopping rounds
        losses = next(iter(next(iter(history.values())).values())) if history else []
        points, best = [[i + 1, None, loss] for i, loss in enumerate(losses)], estimator.best_iteration_ + 1
    else:
        return {}
    keep = points[:: max(1, -(-len(points) // CURVE_POINTS))]
    if points and keep[-1] is not points[-1]:
        keep.append(points[-1])
    rounded = [[int(step)] + [None if v is None else round(float(v), 6) for v in losses] for step, *losses in keep]
    return {"curve": rounded, "curve_best": int(best)}
