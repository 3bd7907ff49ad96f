"""The KerasTuner backend behind the plan's protocol (tuners/backends.py): fixed points (the duel,
the anchors) in order in this process, then one KerasTuner search (Hyperband by default, sized to
the budget; random or Bayesian on request) until the budget ends. Every trial is scored by the
same cross-validation as under Ray Tune, so the two backends' scores compare."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import time
from pathlib import Path

from advisor.errors import InputError
from advisor.events import StageFinished, StageStarted, TrialStream
from advisor.types import Family
from tuners import keras_backend, plan
from tuners.convergence import Convergence
from tuners.data import Problem
from tuners.evaluation import evaluate
from tuners.finish import finish_cost
from tuners.records import TrialRecord, error_text
from tuners.settings import Found, TuneSettings


class _OutOfTime(Exception):
    """The budget ended between two folds: the trial stops with the folds it has."""


START = "start"  # the stage of the anchors: the seeds' start and the library's defaults


class KerasBackend:
    name = "keras"

    @contextlib.contextmanager
    def session(self, settings: TuneSettings):
        if settings.address:
            raise InputError("--tuner keras trains its trials in this process; --address is for Ray Tune. "
                             "Drop --address, or use --tuner ray on a cluster.")
        cluster = keras_backend.devices()
        if settings.gpus_per_trial > cluster["GPU"]:
            raise InputError(f"--gpus-per-trial {settings.gpus_per_trial:g}, but Keras sees {cluster['GPU']:g} GPU(s). "
                             "Drop the option; Keras uses a GPU by itself when it sees one.")
        yield cluster

    def run_points(self, name: str, points: list[dict], space, problem: Problem, family: Family,
                   settings: TuneSettings, storage: Path, budget_s: float, stream: TrialStream) -> list[TrialRecord]:
        """Fixed configurations in order, each through every fold, until `budget_s` is spent."""
        deadline = time.monotonic() + budget_s
        stream.send(StageStarted(name, budget_s))
        found = keras_backend.run_points(name, points, lambda ends: _runner(problem, family, name, ends, all_folds=True),
                                         storage, deadline, _on_trial(stream))
        stream.send(StageFinished(name, len(found)))
        return found

    def search(self, space, anchors: list[dict], problem: Problem, family: Family, settings: TuneSettings,
               storage: Path, budget_s: float, stream: TrialStream) -> Found:
        """The anchors in order ("start"), then one KerasTuner search (Hyperband sized to the
        budget, random or Bayesian), each resumable."""
        ends = time.monotonic() + budget_s
        records = self.run_points(START, anchors, space, problem, family, settings, storage,
                                  budget_s - finish_cost([], problem, settings, budget_s), stream)
        deadline = ends - finish_cost(records, problem, settings, budget_s)  # what the finish will need, kept back
        name = settings.search
        max_epochs = (_hyperband_epochs(problem, family, space.start, records, storage, deadline)
                      if name == "hyperband" else keras_backend.HYPERBAND_EPOCH_CHOICES[-1])
        found = plan.stage_records(storage, name)
        watch = Convergence(settings.patience)
        if found is None:
            limit = keras_backend.UNLIMITED_TRIALS if settings.trials is None else max(0, settings.trials - len(records))
            stage = keras_backend.KerasStage(name, space, name, limit, deadline, settings.seed, max_epochs)
            stream.send(StageStarted(name, budget_s))
            found = plan.save_stage(storage, name, keras_backend.run_stage(
                stage, _runner(problem, family, name, deadline), storage, _on_trial(stream), watch))
            stream.send(StageFinished(name, len(found)))
        return Found(records + found, [START, name], keras_backend.scheduler_description(name, max_epochs),
                     [watch.record(name)] if watch.converged else [])

    def library(self, definition) -> str:
        return keras_backend.library()

    def resources(self, settings: TuneSettings, cluster: dict[str, float]) -> dict[str, float | str]:
        # KerasTuner runs one trial at a time on everything this process sees.
        return {"cpus_per_trial": cluster["CPU"], "gpus_per_trial": cluster["GPU"], "address": "local"}


def _on_trial(stream: TrialStream):
    counts: dict[str, dict[str, int]] = {}

    def on_trial(record: TrialRecord) -> None:
        stage = counts.setdefault(record.stage, {"running": 0, "done": 0, "failed": 0})
        stage["failed" if record.status == "failed" else "done"] += 1
        stream.finished(record.stage, record.trial_id, record.status, record.score, stage)

    return on_trial


def _hyperband_epochs(problem: Problem, family: Family, start: dict, records: list[TrialRecord], storage: Path,
                      deadline: float) -> int:
    """Hyperband's most epochs per trial, from what a fit costs here: one timed one-epoch fit of the
    start point (building, compiling, scoring: paid by every fit) and the start trial's seconds per
    epoch. Chosen once per run and kept in the run folder, so a resumed search keeps its brackets."""
    saved = storage / "hyperband.json"
    if saved.exists():
        return int(json.loads(saved.read_text(encoding="utf-8"))["max_epochs"])
    trial = next((r for r in records if r.stage == START and r.seconds and r.curve and r.folds_done), None)
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


def _runner(problem: Problem, family: Family, stage: str, deadline: float, all_folds: bool = False):
    """`run(config, epochs, trial_id) -> TrialRecord`: one configuration scored on every fold. Its
    training stops at `deadline`; the folds left are skipped then too, unless `all_folds` (a fixed
    point: the anchors and the duel's pairs are scored on every fold, at least an epoch each)."""

    def run(config: dict, epochs: int | None, trial_id: str) -> TrialRecord:
        reports: list[dict] = []

        def report(metrics: dict) -> None:
            reports.append(metrics)
            if not all_folds and not metrics.get("done_all_folds") and time.monotonic() >= deadline:
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



BACKEND = KerasBackend()
