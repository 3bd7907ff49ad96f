"""The search plan, the same for every backend: the family's pre-search step if it has one (the
rnn family's LSTM-vs-GRU duel), then the backend's own stages (Ray Tune: random then coarse to
fine, or Bayesian; KerasTuner: Hyperband, random or Bayesian) with what is left of the budget.
The anchors (the library's defaults and the seeds' start) are the first points of the search,
scored through every fold and never stopped early (finish.best_trial keeps the better of them
unless a tuned trial beats it beyond noise). A stage a stopped run finished is read back, never
run again (resume)."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

from advisor.events import OnEvent, TrialStream
from advisor.types import Family
from tuners.data import Problem
from tuners.families import family_def
from tuners.records import TrialRecord
from tuners.settings import SearchOutcome, TuneSettings
from tuners.space import Choice, Space

def search(problem: Problem, family: Family, settings: TuneSettings, storage: Path, backend,
           on_event: OnEvent | None = None) -> SearchOutcome:
    """Run the plan on `backend` (tuners/backends.py) and return every trial."""
    definition = family_def(family, settings.tuner)
    stream = TrialStream(on_event)
    space = definition.space(problem)
    started = time.monotonic()
    with backend.session(settings) as cluster:
        pre_record = None
        if definition.pre_search is not None:
            pre_record = _pre_search(definition.pre_search, problem, space, family, settings, storage, backend, stream)
            space = definition.pre_search.settle(space, pre_record)
        anchors = anchor_configs(space, definition.defaults(problem))
        left = settings.budget_s - (time.monotonic() - started)
        found = backend.search(space, distinct(anchors.values()), problem, family, settings, storage, max(1.0, left),
                               stream)
    stages = ([definition.pre_search.name] if pre_record else []) + found.stages
    return SearchOutcome(space, found.records, stages, pre_record, cluster, found.scheduler, anchors,
                         found.stopped_early)


def anchor_configs(space: Space, defaults: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{"defaults": the library's defaults, "start": the seeds' start}, both with whatever a
    pre-search step settled (a parameter left with one option) set to it."""
    fixed = {name: p.domain.options[0] for name, p in space.params.items()
             if isinstance(p.domain, Choice) and len(p.domain.options) == 1}
    return {"defaults": {**defaults, **{k: v for k, v in fixed.items() if k in defaults}}, "start": dict(space.start)}


def stage_records(storage: Path, name: str) -> list[TrialRecord] | None:
    """A finished stage's trials, saved in the run folder; None if it has not finished."""
    saved = storage / f"{name}.trials.json"
    if not saved.exists():
        return None
    return [TrialRecord(**r) for r in json.loads(saved.read_text(encoding="utf-8"))]


def save_stage(storage: Path, name: str, found: list[TrialRecord]) -> list[TrialRecord]:
    """Keep a finished stage's trials in the run folder (what a resumed run reads back)."""
    (storage / f"{name}.trials.json").write_text(json.dumps([dataclasses.asdict(r) for r in found]), encoding="utf-8")
    return found


def _pre_search(step, problem: Problem, space: Space, family: Family, settings: TuneSettings, storage: Path,
                backend, stream) -> dict:
    """Run the family's pre-search step on its subset (or read back the one a stopped run finished)."""
    saved = storage / f"{step.name}.json"
    if saved.exists():
        return json.loads(saved.read_text(encoding="utf-8"))
    plan = step.plan(problem, space, settings.seed, settings.trials)
    found = backend.run_points(step.name, list(plan.points), space, plan.problem, family, settings, storage,
                               max(1.0, settings.budget_s * step.budget_share), stream)
    record = step.decide([dataclasses.asdict(r) for r in found], plan)
    saved.write_text(json.dumps(record), encoding="utf-8")
    return record


def distinct(configs) -> list[dict[str, Any]]:
    kept: list[dict[str, Any]] = []
    for config in configs:
        if config not in kept:
            kept.append(config)
    return kept
