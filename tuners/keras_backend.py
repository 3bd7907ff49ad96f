"""The KerasTuner backend: the only module that imports keras_tuner. Translates a Space into
KerasTuner hyperparameters, runs one search stage with a KerasTuner oracle (Hyperband, random or
Bayesian) whose project folder lives in the run folder, and collects its trials.

Trials run one at a time in this process, on the GPU when Keras sees one. Each trial is scored by
the same cross-validation as under Ray Tune (`evaluate` in tuners/stages.py); KerasTuner's oracle
only proposes configurations and receives their scores. The tuning budget ends the search: no new
trial starts after it, and a running one stops at its next epoch.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from pathlib import Path
from typing import Any, Callable

import keras_tuner

from tuners.convergence import Convergence
from tuners.records import TrialRecord
from tuners.space import Choice, IntRange, LogUniform, OneMinusLogUniform, PowersOfTwo, Space, Uniform

ONE_MINUS = "one_minus_"
TUNER_KEYS = "tuner/"  # Hyperband's own entries in a trial's values (epochs, bracket, round)
# Hyperband (Li et al., 2018) over epochs: its most exploratory bracket trains many configurations
# for one epoch, then the best third for 3x more epochs, and so on up to the most epochs a trial
# gets. That maximum is chosen per run, the largest of these for which one whole Hyperband iteration
# fits the budget (judged by the seeds' starting point's time per epoch), so the search gets past
# its first, one-epoch round. Early stopping with patience still ends a trial sooner.
HYPERBAND_EPOCH_CHOICES = (81, 27, 9, 3)
HYPERBAND_FACTOR = 3
HYPERBAND_ITERATIONS = 1_000  # brackets repeat until the budget ends
BAYES_INITIAL_POINTS = 8  # random points before the Gaussian process proposes (few trials fit a budget)
UNLIMITED_TRIALS = 100_000
SEARCHES = ("hyperband", "random", "bayes")


def declare(space: Space, hp: keras_tuner.HyperParameters | None = None) -> keras_tuner.HyperParameters:
    """Our vocabulary -> KerasTuner hyperparameters, the space's start point as each default.

    Log ranges sample on a log scale, batch sizes are a choice of powers of two, and momentum is
    searched as 1 - beta on a log scale (decode() turns it back): seed 003's 1 - 10^r."""
    hp = hp or keras_tuner.HyperParameters()
    for name, param in space.params.items():
        d, start = param.domain, space.start[name]
        if isinstance(d, LogUniform):
            hp.Float(name, d.low, d.high, sampling="log", default=start)
        elif isinstance(d, Uniform):
            hp.Float(name, d.low, d.high, sampling="linear", default=start)
        elif isinstance(d, OneMinusLogUniform):
            hp.Float(ONE_MINUS + name, 1 - d.high, 1 - d.low, sampling="log", default=1 - start)
        elif isinstance(d, IntRange):  # KerasTuner's Int includes both bounds, as ours does
            hp.Int(name, d.low, d.high, sampling="log" if d.log else "linear", default=start)
        elif isinstance(d, (PowersOfTwo, Choice)):
            options = list(d.options)
            if len(options) == 1:
                hp.Fixed(name, options[0])
            else:
                hp.Choice(name, options, ordered=isinstance(d, PowersOfTwo), default=start)
        else:
            raise TypeError(f"no KerasTuner translation for {type(d).__name__}")
    return hp


def decode(values: dict[str, Any], space: Space | None = None) -> dict[str, Any]:
    """A KerasTuner trial's values -> a configuration of our space (Hyperband's entries dropped).
    With the space, a choice comes back as the declared option itself: KerasTuner keeps booleans
    as 0 and 1."""
    config = {}
    for name, value in values.items():
        if name.startswith(TUNER_KEYS):
            continue
        if name.startswith(ONE_MINUS):
            config[name[len(ONE_MINUS):]] = 1 - value
            continue
        value = value.item() if hasattr(value, "item") else value
        domain = space.params[name].domain if space is not None and name in space.params else None
        if isinstance(domain, Choice):
            value = next((option for option in domain.options if option == value), value)
        config[name] = value
    return config


def hyperband_iteration(max_epochs: int, factor: int = HYPERBAND_FACTOR) -> tuple[int, int]:
    """(trials, epochs) one Hyperband iteration trains, by KerasTuner's bracket sizes."""
    brackets, epochs = 0, float(max_epochs)
    while epochs >= 1:
        epochs, brackets = epochs / factor, brackets + 1
    end_size = math.ceil(1 + math.log(max_epochs, factor))
    trials = total = 0
    for bracket in range(brackets):
        for round_ in range(bracket + 1):
            size = math.ceil(end_size / (bracket + 1) * factor ** (bracket - round_))
            trials += size
            total += size * math.ceil(max_epochs / factor ** (bracket - round_))
    return trials, total


def hyperband_epochs(seconds_per_fit: float, seconds_per_epoch: float, folds: int, seconds_left: float) -> int:
    """The most epochs a Hyperband trial gets: the largest choice whose whole iteration (each trial a
    fit per fold, each fit a fixed cost plus its epochs) fits the time left."""
    for epochs in HYPERBAND_EPOCH_CHOICES:
        trials, total = hyperband_iteration(epochs)
        if folds * (trials * seconds_per_fit + total * seconds_per_epoch) <= seconds_left:
            return epochs
    return HYPERBAND_EPOCH_CHOICES[-1]


def oracle(search: str, hp: keras_tuner.HyperParameters, seed: int, max_epochs: int) -> keras_tuner.Oracle:
    objective = keras_tuner.Objective("score", direction="max")
    common = dict(objective=objective, hyperparameters=hp, seed=seed, tune_new_entries=False,
                  allow_new_entries=False, max_consecutive_failed_trials=UNLIMITED_TRIALS)
    if search == "hyperband":
        return keras_tuner.oracles.HyperbandOracle(max_epochs=max_epochs, factor=HYPERBAND_FACTOR,
                                                   hyperband_iterations=HYPERBAND_ITERATIONS, **common)
    if search == "bayes":
        return keras_tuner.oracles.BayesianOptimizationOracle(max_trials=UNLIMITED_TRIALS,
                                                              num_initial_points=BAYES_INITIAL_POINTS, **common)
    if search == "random":
        return keras_tuner.oracles.RandomSearchOracle(max_trials=UNLIMITED_TRIALS, **common)
    raise ValueError(f"unknown search {search!r}; choose one of {', '.join(SEARCHES)}")


def scheduler_description(search: str, max_epochs: int) -> str:
    if search == "hyperband":
        rungs, epochs = [], max_epochs
        while epochs >= 1:
            rungs.insert(0, epochs)
            epochs //= HYPERBAND_FACTOR
        return (f"Hyperband (KerasTuner): brackets train many configurations for few epochs and the best third of each "
                f"round for {HYPERBAND_FACTOR}x more ({', '.join(map(str, rungs))} epochs, the most chosen so that one "
                "Hyperband iteration fits the budget); each round retrains on every validation fold")
    return "none: every trial runs to the end (early stopping with patience happens inside each fit)"


@dataclasses.dataclass(frozen=True)
class KerasStage:
    name: str  # also the KerasTuner project's folder name under the storage path
    space: Space
    search: str  # hyperband, random or bayes
    max_trials: int
    deadline: float  # time.monotonic() at which the stage stops starting trials
    seed: int
    max_epochs: int = HYPERBAND_EPOCH_CHOICES[1]  # Hyperband's most epochs for a trial


class _BudgetSpent(Exception):
    """The stage's deadline or trial limit is reached: start no more trials."""


class _CrossValidatedTuner(keras_tuner.engine.base_tuner.BaseTuner):
    """KerasTuner's documented extension point: run_trial scores a trial our way and returns its
    metrics; the oracle keeps the search state, saved in the project folder after every trial."""

    def __init__(self, stage: KerasStage, run: Callable[[dict, int | None, str], TrialRecord],
                 log: Path, done: int, directory: Path, on_trial: Callable[[TrialRecord], None],
                 convergence: Convergence, **kwargs):
        self.stage, self.run, self.log, self.done, self.on_trial = stage, run, log, done, on_trial
        self.convergence = convergence
        searcher = oracle(stage.search, declare(stage.space), stage.seed, stage.max_epochs)
        super().__init__(oracle=searcher, hypermodel=None, directory=str(directory), project_name=stage.name,
                         overwrite=False, **kwargs)

    def pre_create_trial(self):
        if time.monotonic() >= self.stage.deadline or self.done >= self.stage.max_trials or self.convergence.converged:
            raise _BudgetSpent()

    def run_trial(self, trial, *args, **kwargs):
        values = trial.hyperparameters.values
        config = decode(values, self.stage.space)
        record = self.run(config, values.get("tuner/epochs"), f"{self.stage.name}_{trial.trial_id}")
        _append(self.log, record)
        self.done += 1
        self.on_trial(record)
        if record.status == "completed":
            self.convergence.update(record.score, record.score_sem)
        if record.score is None:
            raise keras_tuner.errors.FailedTrialError(record.error or "no score")
        return {"score": record.score}


def run_stage(stage: KerasStage, run: Callable[[dict, int | None, str], TrialRecord], storage: Path,
              on_trial: Callable[[TrialRecord], None], convergence: Convergence | None = None) -> list[TrialRecord]:
    """Run (or resume, when its project folder exists) one KerasTuner search stage; return its trials.

    `run(config, epochs, trial_id)` trains and scores one configuration. With `convergence`, no
    trial starts once the search has converged (the caller reads it after)."""
    log = storage / f"{stage.name}.trials.jsonl"
    records = read_log(log)
    tuner = _CrossValidatedTuner(stage, run, log, len(records), storage / "keras", on_trial,
                                 convergence or Convergence(0))
    try:
        tuner.search(verbose=0)
    except _BudgetSpent:
        pass
    return read_log(log)


def run_points(name: str, points: list[dict[str, Any]], runner_for: Callable[[float], Callable[..., TrialRecord]],
               storage: Path, deadline: float, on_trial: Callable[[TrialRecord], None]) -> list[TrialRecord]:
    """Fixed configurations in order (the anchors, the duel's pairs), no oracle; points a stopped
    run finished are kept. Every point runs, each with an equal share of the time left (what one
    leaves is shared by the rest), so the last point of a pair is never starved by the first:
    `runner_for(point_deadline)` gives the runner whose training stops at that time."""
    log = storage / f"{name}.trials.jsonl"
    done = {r.trial_id for r in read_log(log)}
    todo = [(f"{name}_{index:03d}", config) for index, config in enumerate(points)]
    todo = [(trial_id, config) for trial_id, config in todo if trial_id not in done]
    for position, (trial_id, config) in enumerate(todo):
        now = time.monotonic()
        share = max(0.0, deadline - now) / (len(todo) - position)
        record = runner_for(now + share)(config, None, trial_id)
        _append(log, record)
        on_trial(record)
    return read_log(log)


def read_log(log: Path) -> list[TrialRecord]:
    """The trials a stage has recorded, one JSON line each; a line cut short by a kill is skipped and
    a trial recorded twice (killed before KerasTuner saved its state, then rerun) keeps its last line."""
    if not log.exists():
        return []
    found: dict[str, TrialRecord] = {}
    for line in log.read_text(encoding="utf-8").splitlines():
        try:
            record = TrialRecord(**json.loads(line))
        except (ValueError, TypeError):
            continue
        found[record.trial_id] = record
    return list(found.values())


def _append(log: Path, record: TrialRecord) -> None:
    with log.open("a", encoding="utf-8") as out:
        out.write(json.dumps(dataclasses.asdict(record), allow_nan=False) + "\n")
        out.flush()
        os.fsync(out.fileno())


def devices() -> dict[str, float]:
    """CPUs and GPUs this process trains on, in the shape of Ray's cluster resources."""
    import keras

    gpus = 0
    if keras.backend.backend() == "torch":
        import torch

        gpus = torch.cuda.device_count()
    elif keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        gpus = len(tf.config.list_physical_devices("GPU"))
    return {"CPU": float(os.cpu_count() or 1), "GPU": float(gpus), "nodes": 1.0}


def library() -> str:
    import keras

    return f"Keras {keras.__version__} on {keras.backend.backend()}, KerasTuner {keras_tuner.__version__}"

