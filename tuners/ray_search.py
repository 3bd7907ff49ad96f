"""The Ray Tune backend behind the plan's protocol (tuners/backends.py): fixed points, and the
search stages (seed 003: random sampling first, 'try randomly sampling instead of grid
searching', then coarse to fine around the best of it; or one Bayesian stage). Ray itself is
imported only by tuners/ray_backend.py."""

from __future__ import annotations

import contextlib
import functools
import math
import time
from importlib.metadata import version
from pathlib import Path

from advisor.errors import InputError
from advisor.events import StageFinished, StageStarted, TrialStream
from advisor.types import Family
from tuners import plan, population_space, ray_backend
from tuners.convergence import Convergence
from tuners.data import Problem
from tuners.evaluation import evaluate
from tuners.finish import finish_cost, reserve_for
from tuners.families import family_def
from tuners.ray_control import CoarseToFine, Phase
from tuners.records import TrialRecord
from tuners.settings import Found, TuneSettings
from tuners.space import Space, coarse_to_fine

COARSE_SHARE = 0.6  # of the budget (or of --trials) spent on the random stage
FINE_TOP_SHARE = 0.25  # the best quarter of the random stage (at least 3) sets the fine ranges
UNBOUNDED_TRIALS = 100_000  # with no --trials the time budget is what stops a stage
# On a cluster (--address) a trial is retried this often when it errors: a lost node must not lose
# the trial. Locally nothing but the trial itself can fail it, so it is not retried.
CLUSTER_TRIAL_RETRIES = 2


class RayBackend:
    name = "ray"

    @contextlib.contextmanager
    def session(self, settings: TuneSettings):
        with ray_backend.ray_session(settings.address):
            cluster = ray_backend.cluster_resources()
            _check_resources(settings, cluster)
            yield cluster

    def run_points(self, name: str, points: list[dict], space: Space, problem: Problem, family: Family,
                   settings: TuneSettings, storage: Path, budget_s: float, stream: TrialStream) -> list[TrialRecord]:
        """Fixed configurations, every one through every fold (no early stopping by the scheduler)."""
        # The points through a searcher of their own: a fixed value outside the space (XGBoost's
        # tree count in its defaults) is not one Tune's random sampler would accept.
        searcher = CoarseToFine(Phase(name, space, list(points), len(points), math.inf), _no_refinement, settings.seed)
        request = ray_backend.StageRequest(
            name=name, space=space, points=tuple(points), num_samples=len(points), budget_s=budget_s,
            search="random", iterative=False, folds=len(problem.splits), seed=settings.seed,
            retries=CLUSTER_TRIAL_RETRIES if settings.address else 0, searcher=searcher)
        return self._run(request, problem, family, settings, storage, stream)

    def search(self, space: Space, anchors: list[dict], problem: Problem, family: Family, settings: TuneSettings,
               storage: Path, budget_s: float, stream: TrialStream) -> Found:
        """The random then the fine stage, as one experiment (ray_control.CoarseToFine), or one
        Bayesian stage, with `budget_s`; resumable. The anchors are the first points, kept from
        ASHA's early stopping. One watch over the whole search, as bench/convergence.py measured it
        (every finished trial in order, across stages): once it has converged no later stage runs."""
        definition = family_def(family, self.name)
        name = "bayes" if settings.search == "bayes" else "search"
        watch = Convergence(settings.patience)
        found = plan.stage_records(storage, name)
        if found is None:  # what the finish will need is kept back (finish_cost: measured later in the search)
            left = budget_s - finish_cost([], problem, settings, budget_s)
            request = (_bayes_request(space, anchors, definition, settings, left, problem) if name == "bayes"
                       else _coarse_to_fine(space, anchors, definition, settings, problem, budget_s, left))
            found = plan.save_stage(storage, name, self._run(request, problem, family, settings, storage, stream, watch))
        else:  # a resumed run: the watch takes the finished search's trials as they came
            watch.feed(found)
        stages = ["bayes"] if name == "bayes" else ["random", "fine"]
        ran = plan.distinct(r.stage for r in found) or stages[:1]
        stopped = [watch.record(ran[-1], [s for s in stages if s not in ran])] if watch.converged else []
        scheduler = ray_backend.scheduler_description(definition.iterative, len(problem.splits))
        return Found(found, ran, scheduler, stopped)

    def library(self, definition) -> str:
        return f"{definition.library} {version(definition.library)}, Ray {version('ray')}"

    def resources(self, settings: TuneSettings, cluster: dict[str, float]) -> dict[str, float | str]:
        return {"cpus_per_trial": settings.cpus_per_trial, "gpus_per_trial": settings.gpus_per_trial,
                "address": settings.address or "local"}

    def _run(self, request, problem: Problem, family: Family, settings: TuneSettings, storage: Path,
             stream: TrialStream, convergence: Convergence | None = None) -> list[TrialRecord]:
        cluster = ray_backend.cluster_resources()
        slots = max(1, int(cluster.get("CPU", 1) // max(settings.cpus_per_trial, 1e-9)))
        slots = min(slots, settings.max_concurrent_trials or slots)
        trainable = ray_backend.evaluate_in_trial(evaluate, threads=max(1, int(settings.cpus_per_trial)))
        resources = {"cpu": settings.cpus_per_trial, "gpu": settings.gpus_per_trial}
        first = request.first_stage
        stream.send(StageStarted(first, request.budget_s))
        found = ray_backend.run_stage(request, trainable, {"problem": problem, "family": family.value}, storage,
                                      resources, slots, stream, convergence)
        last = (plan.distinct(r.stage for r in found) or [first])[-1]  # CoarseToFine: its callback finished the others
        stream.send(StageFinished(last, sum(r.stage == last for r in found)))
        return found


def _coarse_to_fine(space: Space, anchors, definition, settings: TuneSettings, problem: Problem, budget_s: float,
                    left: float) -> ray_backend.StageRequest:
    """The random stage (COARSE_SHARE of the search's time or of --trials, the anchors first), then
    the fine stage around its best, with the rest less what the finish will need as the random
    stage's trials measured it: one experiment (ray_control.CoarseToFine)."""
    now = time.time()
    first_space, trials = _populations(space, definition, settings, _stage_trials(settings.trials, "random", 2), 0)
    points = _anchored(first_space, space, anchors)
    first = Phase("random", first_space, points, max(trials, len(points)), now + max(1.0, left) * COARSE_SHARE)
    rows = (len(problem.splits[0][0]), len(problem.x_train), len(problem.x_test), len(problem.splits))
    refine = functools.partial(fine_phase, space, definition.family, settings, rows, now + budget_s, budget_s)
    searcher = CoarseToFine(first, refine, settings.seed)
    return ray_backend.StageRequest(
        name="search", space=space, points=tuple(points), num_samples=0, budget_s=max(1.0, left), search="random",
        iterative=definition.iterative, folds=len(problem.splits), seed=settings.seed,
        retries=CLUSTER_TRIAL_RETRIES if settings.address else 0, protected=len(points), searcher=searcher)


def fine_phase(space: Space, family: Family, settings: TuneSettings, rows: tuple[int, int, int, int], ends: float,
               budget_s: float, finished: list[tuple[dict, dict]]) -> Phase | None:
    """The fine stage, from the random stage's finished trials (configuration, last result): its
    ranges around their best quarter, until `ends` less the finish's cost as they measured it."""
    records = [m for config, result in finished
               for m in ray_backend.trial_records(config, result, "random")]
    if not any(r.status == "completed" and r.score is not None for r in records):
        return None
    definition = family_def(family, BACKEND.name)
    stage_space, trials = _populations(_fine_space(space, records), definition, settings,
                                       _stage_trials(settings.trials, "fine", 2), 1)
    fold_rows, train_rows, test_rows, folds = rows
    until = ends - reserve_for(records, fold_rows, train_rows, test_rows, settings.refit_all, budget_s, definition.bag,
                               folds, bool(definition.blend_with))
    return Phase("fine", stage_space, [], trials, until)  # no fixed points: the anchors ran in the random stage


def _bayes_request(space: Space, anchors, definition, settings: TuneSettings, budget_s: float,
                   problem: Problem) -> ray_backend.StageRequest:
    """The one Bayesian stage (Optuna's TPE), the anchors first."""
    stage_space, num_samples = _populations(space, definition, settings, _stage_trials(settings.trials, "bayes", 1), 0)
    points = _anchored(stage_space, space, anchors)
    return ray_backend.StageRequest(
        name="bayes", space=stage_space, points=tuple(points), num_samples=max(num_samples, len(points)),
        budget_s=max(1.0, budget_s), search="bayes", iterative=definition.iterative, folds=len(problem.splits),
        seed=settings.seed, retries=CLUSTER_TRIAL_RETRIES if settings.address else 0, protected=len(points))


def _no_refinement(finished: list[tuple[dict, dict]]) -> None:
    """Fixed points have no second stage."""
    return None


def _anchored(stage_space: Space, space: Space, anchors) -> list[dict]:
    """The anchors as the stage's first points: inside population points when the stage's space
    is a population's (_populations expanded it), else as they are."""
    return population_space.anchor_points(stage_space, list(anchors)) if stage_space is not space else list(anchors)


def _check_resources(settings: TuneSettings, cluster: dict[str, float]) -> None:
    """Fail at once, rather than leave trials waiting forever for resources the cluster lacks."""
    if settings.gpus_per_trial > cluster.get("GPU", 0):
        raise InputError(f"--gpus-per-trial {settings.gpus_per_trial:g}, but the Ray cluster has "
                         f"{cluster.get('GPU', 0):g} GPU(s). Drop the option or give an --address with GPUs.")
    if settings.cpus_per_trial > cluster.get("CPU", 0):
        raise InputError(f"--cpus-per-trial {settings.cpus_per_trial:g}, but the Ray cluster has "
                         f"{cluster.get('CPU', 0):g} CPU(s). Ask for fewer.")


def _stage_trials(trials: int | None, stage: str, stages: int) -> int:
    """Configurations a stage may try: unbounded (the budget stops it), or its share of --trials
    (the anchors having taken theirs)."""
    if trials is None:
        return UNBOUNDED_TRIALS
    if stages == 1:
        return max(1, trials)
    coarse = max(1, math.ceil(trials * COARSE_SHARE))
    return coarse if stage == "random" else max(1, trials - coarse)


def _populations(space: Space, definition, settings: TuneSettings, configurations: int, stage: int) -> tuple[Space, int]:
    """The stage's space and Ray trial count: for a family that trains populations, each trial
    holds up to population_space.slots configurations (no more than the stage may try)."""
    size = population_space.slots(settings.gpus_per_trial, settings.population, definition.population_slots) \
        if definition.population_keys else 1
    size = min(size, configurations)
    if size <= 1 or not set(definition.population_keys) & set(space.params):  # nothing for members to differ in
        return space, configurations
    expanded = population_space.expand(space, definition.population_keys, size, settings.seed + stage)
    return expanded, population_space.trials_for(configurations, size)


def _fine_space(space: Space, records: list[TrialRecord]) -> Space:
    # Only configurations inside the space narrow it (the library's defaults may lie outside: reg_alpha 0).
    done = sorted((r for r in records if r.status == "completed" and r.score is not None and space.contains(r.config)),
                  key=lambda r: -r.score)
    top = done[: max(3, math.ceil(len(done) * FINE_TOP_SHARE))]
    return coarse_to_fine(space, [r.config for r in top])


BACKEND = RayBackend()
