"""How a Ray Tune stage is steered and watched: the searcher that runs the random and the fine
stage as one experiment, ASHA that spares the anchors, a stopper that ends a stage once its search
has converged (tuners/convergence.py), and the callback that turns trials into the run's progress
events. Ray is imported here and in ray_backend.py only."""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable

import numpy as np
from ray import cloudpickle
from ray.tune import Callback, Stopper
from ray.tune.schedulers import ASHAScheduler
from ray.tune.search import Searcher

from advisor.events import StageFinished, StageStarted
from tuners.convergence import Convergence
from tuners.space import Space

STAGE_KEY = "__stage__"  # which stage a trial's configuration came from, carried in the configuration


@dataclasses.dataclass
class Phase:
    """One stage of a CoarseToFine search: its space, its fixed points (tried first), how many
    trials it may start, and until when (epoch seconds; its points start whatever the time)."""

    name: str
    space: Space
    points: list[dict[str, Any]]
    trials: int
    until: float


class CoarseToFine(Searcher):
    """The random stage, then the fine stage around its best (seed 003), in one Ray Tune experiment,
    so that the same trial actors serve both: a second experiment started new ones, and a new actor
    imports the trainable's libraries (about 3 s on 2 cores, more than a small table's whole stage).

    `refine(finished)` gets every finished trial as (configuration, last result) once the random
    stage's trials have all ended, and returns the fine stage (None: there is none). It is a
    picklable value (Ray stores the searcher with the experiment, and its state every second)."""

    def __init__(self, first: Phase, refine: Callable[[list[tuple[dict, dict]]], Phase | None], seed: int):
        super().__init__(metric="score", mode="max")
        self.phases, self.refine = [first], refine
        self.rng = np.random.default_rng(seed)
        self.started: list[int] = [0]
        self.live: dict[str, dict] = {}  # trial id -> its configuration
        self.finished: list[tuple[dict, dict]] = []
        self.refined = False

    def set_search_properties(self, metric, mode, config, **spec) -> bool:
        return True  # the phases hold the spaces; Tune's param_space stays empty

    def suggest(self, trial_id: str) -> dict | str | None:
        phase, index = self.phases[-1], len(self.phases) - 1
        count = self.started[index]
        if count < len(phase.points) or (count < phase.trials and time.time() < phase.until):
            config = phase.points[count] if count < len(phase.points) else phase.space.sample(self.rng)
            self.started[index] += 1
            self.live[trial_id] = config
            return {**config, STAGE_KEY: phase.name}
        if self.refined:
            return Searcher.FINISHED
        if self.live:
            return None  # the fine stage's ranges wait for every trial of the random stage
        self.refined = True
        following = self.refine(self.finished)
        if following is None:
            return Searcher.FINISHED
        self.phases.append(following)
        self.started.append(0)
        return self.suggest(trial_id)

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        config = self.live.pop(trial_id, None)
        if config is None and result:  # a trial of a resumed experiment: its configuration is in its result
            config = configuration_of(result) or None
        if config is not None and result and not error:
            self.finished.append((config, result))

    def save(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "wb") as file:
            cloudpickle.dump({k: v for k, v in self.__dict__.items() if k != "refine"}, file)

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "rb") as file:
            self.__dict__.update(cloudpickle.load(file))
        self.live = {}  # Ray restarts the unfinished trials with their configurations: they are not suggested again



def configuration_of(result: dict) -> dict:
    """A trial's configuration from its result, less the stage: Ray hands it nested (`config`) or,
    to a searcher of a restored experiment, flattened (`config/NAME`)."""
    nested = dict(result.get("config") or {})
    flat = {key[len("config/"):]: value for key, value in result.items() if key.startswith("config/")}
    return {k: v for k, v in {**flat, **nested}.items() if k != STAGE_KEY}


class ProtectedASHA(ASHAScheduler):
    """ASHA that never stops the stage's first `protected` trials: the points (the library's
    defaults and the seeds' start) are scored through every fold, whatever the rungs say. Each
    trial it stops before its last fold is passed to `convergence`: below the better third at a
    rung, it did not raise the best (bench/results/convergence.md counts them so)."""

    def __init__(self, protected: int = 0, convergence: Convergence | None = None, **kwargs):
        super().__init__(**kwargs)
        self.protected = protected
        self.convergence = convergence
        self.kept: set[str] = set()

    def on_trial_add(self, tune_controller, trial) -> None:
        if len(self.kept) < self.protected:
            self.kept.add(trial.trial_id)
        super().on_trial_add(tune_controller, trial)

    def on_trial_result(self, tune_controller, trial, result: dict) -> str:
        decision = super().on_trial_result(tune_controller, trial, result)
        if trial.trial_id in self.kept:
            return self.CONTINUE
        if decision == self.STOP and not result.get("done_all_folds") and self.convergence is not None:
            self.convergence.passed()
        return decision


class ConvergedStopper(Stopper):
    """Ends the whole stage once `convergence` says so, fed by every trial that finished every fold,
    once each: Ray hands a finished function trial's last result over a second time (marked done)."""

    def __init__(self, convergence: Convergence):
        self.convergence = convergence
        self.counted: set[str] = set()

    def __call__(self, trial_id: str, result: dict) -> bool:
        if result.get("done_all_folds") and trial_id not in self.counted:
            self.counted.add(trial_id)  # a population's members count one by one, as the search's configurations
            for member in result.get("members") or [result]:
                self.convergence.update(member.get("score"), member.get("score_sem"))
        return False

    def stop_all(self) -> bool:
        return self.convergence.converged


class ProgressCallback(Callback):
    """Forwards trial events to the run's TrialStream (advisor/events.py; no Ray types leak out).
    A trial's stage is its configuration's (CoarseToFine), else the experiment's: when the first
    trial of a new stage starts, the previous stage is finished and the new one started, with what
    is left of the experiment's time (`ends`, epoch seconds).

    Ray stores callbacks with the experiment; the stream itself is not stored, so a resumed run
    gets its own."""

    def __init__(self, stage: str, stream, ends: float | None = None):
        self.stage = stage
        self.stream = stream
        self.ends = ends
        self.trials = 0  # configurations of the current stage that finished

    def __getstate__(self) -> dict:
        return {**self.__dict__, "stream": None}

    def on_trial_start(self, iteration, trials, trial, **info):
        stage = self._stage(trial)
        if stage != self.stage and self.stream is not None:
            self.stream.send(StageFinished(self.stage, self.trials))
            self.stream.send(StageStarted(stage, max(0.0, (self.ends or time.time()) - time.time())))
        if stage != self.stage:
            self.stage, self.trials = stage, 0

    def on_trial_result(self, iteration, trials, trial, result, **info):
        if self.stream is not None:
            self.stream.reported(self._stage(trial), result.get("score"))

    def on_trial_complete(self, iteration, trials, trial, **info):
        self._finished(trials, trial, failed=False)

    def on_trial_error(self, iteration, trials, trial, **info):
        self._finished(trials, trial, failed=True)

    def _stage(self, trial) -> str:
        return (trial.config or {}).get(STAGE_KEY, self.stage)

    def _finished(self, trials, trial, failed: bool) -> None:
        """One TrialFinished per configuration, as result.json lists them: a population's members one by one."""
        last = trial.last_result or {}
        members = last.get("members") or [{"slot": None, "score": last.get("score"), "error": None}]
        self.trials += len(members)
        if self.stream is None:
            return
        status = "failed" if failed else ("completed" if last.get("done_all_folds") else "stopped")
        stage = self._stage(trial)
        counts = _counts([t for t in trials if self._stage(t) == stage])  # the stage's own, as the event says
        for member in members:
            name = str(trial.trial_id) if member["slot"] is None else f"{trial.trial_id}.{member['slot']}"
            self.stream.finished(stage, name, "failed" if member.get("error") else status, member.get("score"), counts)


def _counts(trials) -> dict[str, int]:
    counts = {"running": 0, "done": 0, "failed": 0}
    for trial in trials:
        if trial.status == "RUNNING":
            counts["running"] += 1
        elif trial.status == "TERMINATED":
            counts["done"] += 1
        elif trial.status == "ERROR":
            counts["failed"] += 1
    return counts
