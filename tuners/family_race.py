"""The family race: when the rules' first and second family are close (rules.contenders), both
train on one seeded random subset of the training samples, with the same folds and an equal short
budget, before the search (seed 001: "try both, only on a random subset of the data", taken from
LSTM/GRU cells to families). Each runs its anchors (the library's defaults, the seeds' start) and a
few configurations sampled from its space, every one through every fold. The better family goes on
with the rest of the budget; the rules' pick keeps the run unless the other beats it by more than one
standard error (the duel's and the finish's one-standard-error rule).

The record goes into result.json as `race`: {"families", "subset_rows", "seed", "scores", "winner",
"reason", "seconds", "budget_s", "trials"}. A stopped run reads its finished race back (resume).
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from advisor.events import OnEvent, TrialStream
from advisor.types import Family, Profile
from tuners import plan
from tuners.backends import backend_for, load, search_for
from tuners.data import inputs_of, prepare, subset
from tuners.families import FAMILIES, family_def
from tuners.records import beats_beyond_noise, best_finished
from tuners.settings import TuneSettings

BUDGET_SHARE = 0.25  # of the run's budget, both families together
FAMILY_MIN_S = 10.0  # each family's least: a Ray Tune run costs seconds to start its trials on 2 cores
SMALLEST_BUDGET_S = 40.0  # below this the race would eat the search: the rules decide alone
SUBSET_SHARE = 0.5  # of the training samples
SUBSET_MIN = 200  # samples; a smaller training set races on all of it
SUBSET_MAX = 5_000
FOLDS = 3  # enough to see noise, cheap enough to finish
SAMPLED = 2  # configurations drawn from each family's space after its anchors
SAVED = "race.json"


def runnable(families: tuple[Family, ...], profile: Profile, budget_s: float) -> tuple[Family, ...]:
    """The families of a race that can train on this data's inputs (a race needs two), when the
    budget leaves room for one."""
    if budget_s < SMALLEST_BUDGET_S:
        return ()
    given = inputs_of(profile)
    found = tuple(f for f in families if FAMILIES[f].inputs in given)
    return found if len(found) >= 2 else ()


def race(frame: pd.DataFrame, profile: Profile, families: tuple[Family, ...], settings: TuneSettings,
         storage: Path, on_event: OnEvent | None = None, test_rows=None, images=None) -> dict[str, Any]:
    """Race `families` (the rules' pick first) on one random subset; return the record."""
    storage.mkdir(parents=True, exist_ok=True)
    saved = storage / SAVED
    if saved.exists():
        return json.loads(saved.read_text(encoding="utf-8"))
    started = time.monotonic()
    stream = TrialStream(on_event)
    budget = max(FAMILY_MIN_S, settings.budget_s * BUDGET_SHARE / len(families))
    trials: list[dict[str, Any]] = []
    rows = 0
    for family in families:
        found, rows = _run_family(frame, profile, family, settings, storage, budget, stream, test_rows, images)
        trials += [dict(dataclasses.asdict(r), family=family.value) for r in found]
    record = decide(trials, families, rows, settings.seed)
    record.update(seconds=round(time.monotonic() - started, 2), budget_s=round(budget * len(families), 2))
    saved.write_text(json.dumps(record), encoding="utf-8")
    return record


def _run_family(frame, profile, family: Family, settings: TuneSettings, storage: Path, budget: float, stream,
                test_rows, images):
    """One family's anchors and sampled points on the subset, on the backend that tunes it."""
    name = backend_for(family, settings.tuner)
    settings = dataclasses.replace(settings, tuner=name, search=search_for(name, settings.search))
    definition = family_def(family, name)
    problem = prepare(frame, profile, settings.seed, inputs=definition.inputs, test_rows=test_rows, images=images)
    part = subset(problem, settings.seed, SUBSET_SHARE, SUBSET_MIN, SUBSET_MAX, FOLDS)
    space = definition.space(problem)
    rng = np.random.default_rng([settings.seed, 2])
    anchors = plan.anchor_configs(space, definition.defaults(problem))
    sampled = SAMPLED if settings.trials is None else min(SAMPLED, max(0, settings.trials // 4))
    points = plan.distinct([*anchors.values(), *(space.sample(rng) for _ in range(sampled))])
    backend = load(name)
    with backend.session(settings):
        found = backend.run_points(f"race-{family.value}", points, space, part, family, settings, storage, budget,
                                   stream)
    return found, len(part.y_train) if part.y_train is not None else len(part.x_train)


def decide(trials: list[dict[str, Any]], families: tuple[Family, ...], subset_rows: int, seed: int) -> dict[str, Any]:
    """The winner and why: the other family must beat the rules' pick (the first) by more than one
    standard error over the folds, else the pick keeps the run."""
    best = {f.value: best_finished(trials, lambda t, name=f.value: t["family"] == name) for f in families}
    scores = {name: (None if t is None else round(t["score"], 6)) for name, t in best.items()}
    pick, other = (f.value for f in families[:2])
    mine, theirs = best[pick], best[other]
    if theirs is None:
        winner, reason = pick, (f"no {other} configuration finished on the subset; the rules' pick {pick} goes on"
                                if mine is not None else f"neither family finished on the subset; the rules' pick {pick} goes on")
    elif mine is None:
        winner, reason = other, f"no {pick} configuration finished on the subset; {other} did"
    else:
        wins, margin, sem = beats_beyond_noise(theirs, mine)
        if wins:
            winner = other
            reason = (f"{other}'s best validation score {theirs['score']:.4f} beats the rules' pick {pick} "
                      f"({mine['score']:.4f}) by {margin:.4f}, more than one standard error ({sem:.4f})")
        else:
            winner = pick
            reason = (f"{other}'s best validation score {theirs['score']:.4f} does not beat the rules' pick {pick} "
                      f"({mine['score']:.4f}) by more than one standard error ({sem:.4f}); the rules' pick goes on")
    return {"families": [f.value for f in families], "subset_rows": subset_rows, "seed": seed, "scores": scores,
            "winner": winner, "reason": reason, "trials": trials}
