"""The forest family (tuners/families/forest.py): extremely randomised trees that stop growing at a
deadline, a space fitted to the table, and a family the rules leave out and say why."""

from __future__ import annotations

import time

import numpy as np

from advisor.types import Family
from rules.catalog import RULES
from rules.engine import decide
from tuners.families import FAMILIES
from tuners.families.forest import CHUNK, TREES, DeadlineForest

FOREST = FAMILIES[Family.FOREST]


def test_a_forest_past_its_deadline_stops_after_one_chunk_of_trees(prepared):
    problem = prepared("wine.csv")
    config = FOREST.space(problem).start
    late = FOREST.build(config, problem).set_params(model__deadline=time.time() - 1.0)
    late.fit(problem.x_train, problem.y_train)
    whole = FOREST.build(config, problem).fit(problem.x_train, problem.y_train)
    assert len(late[-1].library_model_.estimators_) == CHUNK < TREES == len(whole[-1].library_model_.estimators_)
    assert (whole.predict(problem.x_test) == problem.y_test).mean() > 0.9  # wine: a forest's accuracy


def test_the_forest_never_draws_a_split_from_fewer_than_two_columns(prepared):
    problem = prepared("diabetes.csv")
    space = FOREST.space(problem)
    share = space.params["max_features"].domain
    columns = problem.x_train.shape[1]
    assert int(share.low * columns) >= 2 and share.high == 1.0
    rng = np.random.default_rng(0)
    assert all(int(space.sample(rng)["max_features"] * columns) >= 2 for _ in range(50))


def test_the_rules_leave_the_forest_out_and_say_why_and_family_forest_overrides_them(examples_dir):
    from advisor.loading import load
    from advisor.profiling import profile

    described = profile(load(examples_dir / "wine.csv"))
    decision = decide(described, RULES)
    excluded = {e.family: e.reasons for e in decision.excluded}
    assert Family.FOREST in excluded and "--family forest" in excluded[Family.FOREST][0]
    assert Family.FOREST not in {r.family for r in decision.ranking}
    forced = decide(described, RULES, override=Family.FOREST)
    assert forced.family is Family.FOREST and any("excluded forest" in note for note in forced.notes)
