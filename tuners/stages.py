"""The search plan, independent of the backend: random sampling first (seed 003: 'try randomly
sampling instead of grid searching'), then coarse to fine around the best of it; or one Bayesian
stage. Then the best configuration is refitted on all training rows and scored once on the test
split, beside the family's default configuration."""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from advisor.errors import InputError, RunFailed
from advisor.types import Family
from tuners import duel, population_space, ray_backend
from tuners.data import Problem, take
from tuners.export import save_model
from tuners.families import FAMILIES, family_def
from tuners.families.base import DivergedError
from tuners.metrics import report_metrics, score, test_details
from tuners.records import TrialRecord
from tuners.space import Space, coarse_to_fine

COARSE_SHARE = 0.6  # of the budget (or of --trials) spent on the random stage
FINE_TOP_SHARE = 0.25  # the best quarter of the random stage (at least 3) sets the fine ranges
UNBOUNDED_TRIALS = 100_000  # with no --trials the time budget is what stops a stage
# On a cluster (--address) a trial is retried this often when it errors: a lost node must not lose
# the trial. Locally nothing but the trial itself can fail it, so it is not retried.
CLUSTER_TRIAL_RETRIES = 2
CURVE_POINTS = 200  # learning-curve points kept per trial, for the report


@dataclasses.dataclass(frozen=True)
class TuneSettings:
    budget_s: float
    trials: int | None
    search: str  # random or bayes
    cpus_per_trial: float
    gpus_per_trial: float
    address: str | None
    seed: int
    tuner: str = "ray"  # ray or keras: which backend searches (the keras one for the neural families)
    population: int | None = None  # configurations per Ray trial for families that train populations; None: by device
    max_concurrent_trials: int | None = None  # None: as many as the cluster's CPUs hold (a batch job gets its share)


class TuningFailed(RunFailed):
    """No trial finished: nothing to recommend a configuration from."""


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
        models = [definition.build(configs[i], problem) for i in alive]
        for model in models:
            if deadline is not None and "deadline" in model[-1].get_params():
                model.set_params(model__deadline=deadline)
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
    elif hasattr(estimator, "booster_") and hasattr(estimator, "best_iteration_"):
        history = estimator.booster_.evals_result()
        losses = next(iter(next(iter(history.values())).values())) if history else []
        points, best = [[i + 1, None, loss] for i, loss in enumerate(losses)], estimator.best_iteration_ + 1
    else:
        return {}
    keep = points[:: max(1, -(-len(points) // CURVE_POINTS))]
    if points and keep[-1] is not points[-1]:
        keep.append(points[-1])
    rounded = [[int(step)] + [None if v is None else round(float(v), 6) for v in losses] for step, *losses in keep]
    return {"curve": rounded, "curve_best": int(best)}


@dataclasses.dataclass(frozen=True)
class SearchOutcome:
    space: Space  # as searched (for the rnn family: with the duel's cell fixed)
    records: list[TrialRecord]
    stages: list[str]
    duel: dict | None  # the rnn family's LSTM-vs-GRU duel, which ran first
    cluster: dict[str, float]  # CPUs, GPUs and nodes of the Ray cluster the trials ran on
    scheduler: str


def search(problem: Problem, family: Family, settings: TuneSettings, storage: Path,
           on_event: Callable[[str, dict], None] | None = None) -> SearchOutcome:
    """Run the stages (resuming any that a stopped run left) and return every trial."""
    definition = FAMILIES[family]
    space = definition.space(problem)
    started = time.monotonic()
    stages = ["bayes"] if settings.search == "bayes" else ["random", "fine"]
    trainable = ray_backend.evaluate_in_trial(evaluate, threads=max(1, int(settings.cpus_per_trial)))
    resources = {"cpu": settings.cpus_per_trial, "gpu": settings.gpus_per_trial}
    records: list[TrialRecord] = []
    with ray_backend.ray_session(settings.address):
        cluster = ray_backend.cluster_resources()
        _check_resources(settings, cluster)
        slots = max(1, int(cluster.get("CPU", 1) // max(settings.cpus_per_trial, 1e-9)))
        slots = min(slots, settings.max_concurrent_trials or slots)
        duel_record = None
        if family == Family.RNN:
            duel_record = _duel(problem, space, settings, storage, trainable, resources, slots, on_event)
            space = duel.fix_cell(space, duel_record["winner"])
        for index, stage in enumerate(stages):
            saved = storage / f"{stage}.trials.json"
            if saved.exists():  # finished before the run was stopped: keep, never re-run
                records += [TrialRecord(**r) for r in json.loads(saved.read_text(encoding="utf-8"))]
                continue
            stage_space = _fine_space(space, records) if stage == "fine" else space
            configurations = _stage_trials(settings.trials, stage, len(stages))
            stage_space, num_samples = _populations(stage_space, definition, settings, configurations, index)
            points = () if stage == "fine" else (stage_space.start,)
            left = settings.budget_s - (time.monotonic() - started)
            share = COARSE_SHARE if stage == "random" else 1.0
            request = ray_backend.StageRequest(
                name=stage, space=stage_space, points=points, num_samples=num_samples,
                budget_s=max(1.0, left * share), search="bayes" if stage == "bayes" else "random",
                iterative=definition.iterative, folds=len(problem.splits), seed=settings.seed + index,
                retries=CLUSTER_TRIAL_RETRIES if settings.address else 0,
            )
            found = ray_backend.run_stage(request, trainable, {"problem": problem, "family": family.value}, storage,
                                          resources, slots, on_event)
            saved.write_text(json.dumps([dataclasses.asdict(r) for r in found]), encoding="utf-8")
            records += found
    scheduler = ray_backend.scheduler_description(definition.iterative, len(problem.splits))
    return SearchOutcome(space, records, (["duel"] if duel_record else []) + stages, duel_record, cluster, scheduler)


def _duel(problem: Problem, space: Space, settings: TuneSettings, storage: Path, trainable, resources, slots,
          on_event) -> dict:
    """Run the duel (or reuse the one a stopped run finished) and return its record."""
    saved = storage / "duel.json"
    if saved.exists():
        return json.loads(saved.read_text(encoding="utf-8"))
    pairs = duel.PAIRS if settings.trials is None else min(duel.PAIRS, max(1, settings.trials // 4))
    plan = duel.plan(problem, space, settings.seed, pairs)
    request = ray_backend.StageRequest(
        name="duel", space=space, points=plan.points, num_samples=len(plan.points),
        budget_s=max(1.0, settings.budget_s * duel.BUDGET_SHARE), search="random",
        iterative=False,  # no early stopping by the scheduler: both cells run every configuration
        folds=len(plan.problem.splits), seed=settings.seed, retries=CLUSTER_TRIAL_RETRIES if settings.address else 0,
    )
    found = ray_backend.run_stage(request, trainable, {"problem": plan.problem, "family": Family.RNN.value}, storage,
                                  resources, slots, on_event)
    record = duel.decide([dataclasses.asdict(r) for r in found], plan.subset_rows, plan.seed)
    saved.write_text(json.dumps(record), encoding="utf-8")
    return record


def _check_resources(settings: TuneSettings, cluster: dict[str, float]) -> None:
    """Fail at once, rather than leave trials waiting forever for resources the cluster lacks."""
    if settings.gpus_per_trial > cluster.get("GPU", 0):
        raise InputError(f"--gpus-per-trial {settings.gpus_per_trial:g}, but the Ray cluster has "
                         f"{cluster.get('GPU', 0):g} GPU(s). Drop the option or give an --address with GPUs.")
    if settings.cpus_per_trial > cluster.get("CPU", 0):
        raise InputError(f"--cpus-per-trial {settings.cpus_per_trial:g}, but the Ray cluster has "
                         f"{cluster.get('CPU', 0):g} CPU(s). Ask for fewer.")


def _stage_trials(trials: int | None, stage: str, stages: int) -> int:
    if trials is None:
        return UNBOUNDED_TRIALS
    if stages == 1:
        return trials
    coarse = max(1, math.ceil(trials * COARSE_SHARE))
    return coarse if stage == "random" else max(1, trials - coarse)


def _populations(space: Space, definition, settings: TuneSettings, configurations: int, stage: int) -> tuple[Space, int]:
    """The stage's space and Ray trial count: for a family that trains populations, each trial
    holds up to population_space.slots configurations (no more than the stage may try)."""
    size = population_space.slots(settings.gpus_per_trial, settings.population, definition.population_slots) \
        if definition.population_keys else 1
    size = min(size, configurations)
    if size <= 1:
        return space, configurations
    expanded = population_space.expand(space, definition.population_keys, size, settings.seed + stage)
    return expanded, population_space.trials_for(configurations, size)


def _fine_space(space: Space, records: list[TrialRecord]) -> Space:
    done = sorted((r for r in records if r.status == "completed" and r.score is not None), key=lambda r: -r.score)
    top = done[: max(3, math.ceil(len(done) * FINE_TOP_SHARE))]
    return coarse_to_fine(space, [r.config for r in top])


def best_trial(records: list[TrialRecord], start: dict[str, Any]) -> tuple[TrialRecord, str]:
    """The trial to refit, and why. The highest validation score wins, unless the seeds' starting
    point scored within one standard error of it: then the search found nothing the folds can tell
    apart from the start, and the start is kept (the one-standard-error rule, Hastie, Tibshirani and
    Friedman, The Elements of Statistical Learning, 7.10)."""
    done = [r for r in records if r.status == "completed" and r.score is not None]
    if not done:
        partial = [r for r in records if r.status == "stopped" and r.score is not None and r.folds_done > 0]
        if partial:  # the budget cut every trial between folds: a score on some folds beats no answer
            best = max(partial, key=lambda r: r.score)
            return best, (f"no trial finished every fold within the budget: the best of the partly scored trials "
                          f"({best.folds_done} fold(s)); give a larger --budget for a firmer choice")
        errors = "; ".join(sorted({r.error for r in records if r.error})[:2]) or "the budget ended before any trial finished"
        raise TuningFailed(f"tuning failed: no trial finished ({errors}). Give a larger --budget or check the data.")
    best = max(done, key=lambda r: r.score)
    starts = [r for r in done if _same_config(r.config, start)]
    if best.score_sem and starts and starts[0] is not best and starts[0].score >= best.score - best.score_sem:
        kept = starts[0]
        return kept, (f"the starting point scored {kept.score:.4f}, within one standard error ({best.score_sem:.4f}) "
                      f"of the best trial's {best.score:.4f}: kept by the one-standard-error rule")
    return best, "the highest validation score"


def _same_config(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal up to float round trips (Ray stores momentum as 1 - beta)."""
    if a.keys() != b.keys():
        return False
    return all(math.isclose(a[k], b[k], rel_tol=1e-9) if isinstance(b[k], float) else a[k] == b[k] for k in b)


REFIT_TRIES = 3  # trials tried in turn when the chosen one's refit on all training rows diverges


def refit_best(problem: Problem, family: Family, records: list[TrialRecord], start: dict[str, Any], model_dir: Path,
               settings: TuneSettings) -> tuple[dict, TrialRecord, str]:
    """best_trial, refitted by `finish`: (what finish returns, the trial refitted, why it was chosen).
    A learning rate at the edge of stability can pass every fold and still diverge on all the
    training rows; then the next best trial is refitted instead (finished trials before partly
    scored ones), up to REFIT_TRIES, and the reason says so."""
    best, reason = best_trial(records, start)
    scored = [r for r in records if r is not best and r.score is not None and r.status in ("completed", "stopped")]
    ranked = [best] + sorted(scored, key=lambda r: (r.status == "completed", r.score), reverse=True)
    diverged: list[str] = []
    for candidate in ranked[:REFIT_TRIES]:
        try:
            finished = finish(problem, family, candidate.config, model_dir, settings)
        except DivergedError as error:
            diverged.append(f"trial {candidate.trial_id}: {error}")
            continue
        if diverged:
            reason = (f"the refit on all training rows diverged for {len(diverged)} better trial(s) ({diverged[0]}); "
                      f"the next best, validation score {candidate.score:.4f}, was refitted")
        return finished, candidate, reason
    raise TuningFailed(f"the refit on all training rows diverged for the {len(diverged)} best trials ({diverged[0]}). "
                       "Run again with another --seed or a larger --budget.")


def finish(problem: Problem, family: Family, config: dict[str, Any], model_dir: Path, settings: TuneSettings) -> dict:
    """Refit `config` on all training rows, score it once on the test split, beside the defaults; export it."""
    definition = family_def(family, settings.tuner)
    y_train = problem.y_train
    model = definition.build(config, problem).fit(problem.x_train, y_train)
    tested = report_metrics(problem.metric, model, problem.x_test, problem.y_test, problem.classes)
    baseline_config = definition.defaults(problem)
    baseline = definition.build(baseline_config, problem).fit(problem.x_train, y_train)
    baseline_tested = report_metrics(problem.metric, baseline, problem.x_test, problem.y_test, problem.classes)
    manifest = {
        "family": family.value, "format": definition.model_format, "task": problem.task.value,
        "classes": list(problem.classes), "metric": problem.metric, "config": config,
        "spec": {k: list(v) for k, v in dataclasses.asdict(problem.spec).items()},
        "test_metrics": tested, "seed": settings.seed, "image": problem.image,
        "sequence": problem.sequence,
    }
    save_model(model, manifest, model_dir)
    details = test_details(problem.metric, model, problem.x_test, problem.y_test, problem.classes, settings.seed)
    return {"test": tested, "baseline_config": baseline_config, "baseline_test": baseline_tested, "details": details}
