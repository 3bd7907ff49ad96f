"""The CatBoost family (tuners/families/catboost.py): boosting that stops growing at a deadline, a
space fitted to the table, a family the rules leave out and say why, and a blend partner that the
check weighs beside the others on the same folds."""

from __future__ import annotations

import time

import numpy as np

from advisor.types import Family
from rules.catalog import RULES
from rules.engine import decide
from tuners.blending import MARGIN_SE, choose_blend
from tuners.families import FAMILIES
from tuners.families.catboost import ITERATIONS, PARTNER_ITERATIONS
from tuners.records import TrialRecord

CATBOOST, LINEAR = FAMILIES[Family.CATBOOST], FAMILIES[Family.LINEAR]


def test_catboost_past_its_deadline_stops_after_one_tree_and_its_defaults_grow_all(prepared):
    problem = prepared("wine.csv")
    config = CATBOOST.defaults(problem)
    late = CATBOOST.build(config, problem).set_params(model__deadline=time.time() - 1.0)
    late.fit(problem.x_train, problem.y_train)
    whole = CATBOOST.build(config, problem).fit(problem.x_train, problem.y_train)
    assert late[-1].library_model_.tree_count_ == 1 < ITERATIONS == whole[-1].library_model_.tree_count_
    assert (whole.predict(problem.x_test) == problem.y_test).mean() > 0.9  # wine: CatBoost's defaults' accuracy
    assert whole.predict_proba(problem.x_test).shape == (len(problem.y_test), len(problem.classes))


def test_catboost_never_chooses_splits_among_fewer_than_two_columns(prepared):
    problem = prepared("diabetes.csv")
    space = CATBOOST.space(problem)
    share = space.params["rsm"].domain
    columns = problem.x_train.shape[1]
    assert int(share.low * columns) >= 2 and share.high == 1.0
    rng = np.random.default_rng(0)
    assert all(space.contains(space.sample(rng)) for _ in range(20))


def test_the_rules_leave_catboost_out_and_say_why_and_family_catboost_overrides_them(examples_dir):
    from advisor.loading import load
    from advisor.profiling import profile

    described = profile(load(examples_dir / "wine.csv"))
    decision = decide(described, RULES)
    excluded = {e.family: e.reasons for e in decision.excluded}
    assert Family.CATBOOST in excluded and "--family catboost" in excluded[Family.CATBOOST][0]
    assert Family.CATBOOST not in {r.family for r in decision.ranking}
    forced = decide(described, RULES, override=Family.CATBOOST)
    assert forced.family is Family.CATBOOST


def test_on_house_prices_the_linear_model_s_check_weighs_catboost_beside_boosting_and_keeps_the_better(sacramento):
    """Sacramento's prices (seed 0): the linear model's partners, boosted trees and then CatBoost at
    300 trees, each blended on the check's folds; CatBoost's blend validates best and is kept
    (bench/results/catboost_partner.md: test R^2 0.6583 with boosting's blend, 0.6820 with CatBoost's)."""
    _, problem = sacramento
    config = LINEAR.defaults(problem)
    trial = TrialRecord("t1", "random", config, 0.0, "completed", None, None, 0.5, len(problem.splits))
    partners = [FAMILIES[f] for f in LINEAR.blend_with]
    choice = choose_blend(LINEAR, config, trial, problem, partners, 1e6, None)
    scored = {p["family"]: p["scores"] for p in choice.check["partners"]}
    assert set(scored) == {"boosting", "catboost"} and all(scored.values())
    assert choice.partner is Family.CATBOOST and choice.config["iterations"] == PARTNER_ITERATIONS
    assert scored["catboost"]["blend"] > scored["boosting"]["blend"]
    assert choice.check["scores"]["blend"] - choice.check["scores"]["alone"] > MARGIN_SE * choice.check["sem"]
