"""The search plan under the KerasTuner backend: for the rnn family the LSTM-vs-GRU duel first (as
under Ray Tune), then the seeds' starting point, then one KerasTuner search (Hyperband by default;
random or Bayesian on request) until the budget ends. Every trial is scored by the same
cross-validation as under Ray Tune, so the two backends' scores compare."""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Callable

from advisor.errors import InputError
from advisor.types import Family
from tuners import duel, keras_backend
from tuners.data import Problem
from tuners.families import family_def
from tuners.records import TrialRecord, error_text
from tuners.stages import SearchOutcome, TuneSettings, evaluate


class _OutOfTime(Exception):
    """The budget ended between two folds: the trial stops with the folds it has."""


def search(problem: Problem, family: Family, settings: TuneSettings, storage: Path,
           on_event: Callable[[str, dict], None] | None = None) -> SearchOutcome:
    """Run the stages (resuming any that a stopped run left) and return every trial."""
    if settings.address:
        raise InputError("--tuner keras trains its trials in this process; --address is for Ray Tune. "
                         "Drop --address, or use --tuner ray on a cluster.")
    cluster = keras_backend.devices()
    if settings.gpus_per_trial > cluster["GPU"]:
        raise InputError(f"--gpus-per-trial {settings.gpus_per_trial:g}, but Keras sees {cluster['GPU']:g} GPU(s). "
                         "Drop the option; Keras uses a GPU by itself when it sees one.")
    space = family_def(family, "keras").space(problem)
    started = time.monotonic()
    deadline = started + settings.budget_s
    counts: dict[str, dict[str, int]] = {}

    def on_trial(record: TrialRecord) -> None:
        stage = counts.setdefault(record.stage, {"running": 0, "done": 0, "failed": 0})
        stage["failed" if record.status == "failed" else "done"] += 1
        if on_event is not None:
            on_event("result", {"stage": record.stage, "score": record.score, "trials": dict(stage)})

    records: list[TrialRecord] = []
    stages: list[str] = []
    duel_record = None
    if family == Family.RNN:
        duel_record = _duel(problem, space, settings, storage, started, on_trial)
        space = duel.fix_cell(space, duel_record["winner"])
        stages.append("duel")
    run = _runner(problem, family, "start", deadline)
    records += keras_backend.run_points("start", [space.start], run, storage, deadline, on_trial)
    stage_name = settings.search
    max_epochs = (_hyperband_epochs(problem, family, space.start, records, storage, deadline)
                  if settings.search == "hyperband" else keras_backend.HYPERBAND_EPOCH_CHOICES[-1])
    saved = storage / f"{stage_name}.trials.json"
    if saved.exists():  # finished before the run was stopped: keep, never re-run
        records += [TrialRecord(**r) for r in json.loads(saved.read_text(encoding="utf-8"))]
    else:
        limit = keras_backend.UNLIMITED_TRIALS if settings.trials is None else max(0, settings.trials - 1)
        stage = keras_backend.KerasStage(stage_name, space, settings.search, limit, deadline, settings.seed, max_epochs)
        found = keras_backend.run_stage(stage, _runner(problem, family, stage_name, deadline), storage, on_trial)
        saved.write_text(json.dumps([dataclasses.asdict(r) for r in found]), encoding="utf-8")
        records += found
    stages += ["start", stage_name]
    return SearchOutcome(space, records, stages, duel_record, cluster,
                         keras_backend.scheduler_description(settings.search, max_epochs))


def _hyperband_epochs(problem: Problem, family: Family, start: dict, records: list[TrialRecord], storage: Path,
                      deadline: float) -> int:
    """Hyperband's most epochs per trial, from what a fit costs here: one timed one-epoch fit of the
    start point (building, compiling, scoring: paid by every fit) and the start trial's seconds per
    epoch. Chosen once per run and kept in the run folder, so a resumed search keeps its brackets."""
    saved = storage / "hyperband.json"
    if saved.exists():
        return int(json.loads(saved.read_text(encoding="utf-8"))["max_epochs"])
    trial = next((r for r in records if r.stage == "start" and r.seconds and r.curve and r.folds_done), None)
    if trial is None:  # the start point did not finish: assume a slow model
        epochs = keras_backend.HYPERBAND_EPOCH_CHOICES[-1]
    else:
        one_fold = dataclasses.replace(problem, splits=problem.splits[:1])
        probe = _runner(one_fold, family, "probe", deadline)(start, 1, "probe")
        per_fit = probe.seconds or 0.0
        per_epoch = max(0.0, trial.seconds / trial.folds_done - per_fit) / max(1, trial.curve[-1][0] - 1)
        epochs = keras_backend.hyperband_epochs(per_fit, per_epoch, len(problem.splits), deadline - time.monotonic())
    saved.write_text(json.dumps({"max_epochs": epochs}), encoding="utf-8")
    return epochs


def _duel(problem: Problem, space, settings: TuneSettings, storage: Path, started: float, on_trial) -> dict:
    """Both cells on the same subset, folds and configurations (tuners/duel.py), in order."""
    saved = storage / "duel.json"
    if saved.exists():
        return json.loads(saved.read_text(encoding="utf-8"))
    pairs = duel.PAIRS if settings.trials is None else min(duel.PAIRS, max(1, settings.trials // 4))
    plan = duel.plan(problem, space, settings.seed, pairs)
    deadline = started + settings.budget_s * duel.BUDGET_SHARE
    found = keras_backend.run_points("duel", list(plan.points), _runner(plan.problem, Family.RNN, "duel", deadline),
                                     storage, deadline, on_trial)
    record = duel.decide([dataclasses.asdict(r) for r in found], plan.subset_rows, plan.seed)
    saved.write_text(json.dumps(record), encoding="utf-8")
    return record


def _runner(problem: Problem, family: Family, stage: str, deadline: float):
    """`run(config, epochs, trial_id) -> TrialRecord`: one configuration scored on every fold."""

    def run(config: dict, epochs: int | None, trial_id: str) -> TrialRecord:
        reports: list[dict] = []

        def report(metrics: dict) -> None:
            reports.append(metrics)
            if not metrics.get("done_all_folds") and time.monotonic() >= deadline:
                raise _OutOfTime()

        clock = time.perf_counter()
        error = None
        try:
            evaluate(dict(config, _epochs=epochs, _deadline=deadline), report, problem, family.value, tuner="keras")
        except _OutOfTime:
            pass
        except Exception as failure:  # noqa: BLE001 - a trial that cannot train is recorded as failed
            error = error_text(failure)
        last = reports[-1] if reports else {}
        score = last.get("score")
        if error is not None:
            status = "failed"
        elif last.get("done_all_folds"):  # scored on every fold (the budget may have cut its last epochs)
            status = "completed"
        else:  # the budget ended between its folds
            status = "stopped"
        return TrialRecord(
            trial_id=trial_id, stage=stage, config=dict(config), status=status, error=error, node_id=None,
            score=None if score is None or not math.isfinite(score) else float(score),
            seconds=round(time.perf_counter() - clock, 3), folds_done=int(last.get("folds_done", 0)),
            score_sem=last.get("score_sem"), finished_at=time.time(), curve=last.get("curve"),
            curve_best=last.get("curve_best"), epochs=None if epochs is None else int(epochs),
        )

    return run

