"""The rules engine: every branch of the decision tree, the trace, overrides, and rule checking."""

from __future__ import annotations

import dataclasses

import pytest

from advisor.thresholds import FORECAST_RNN_MIN_STEPS, LOTS_OF_DATA_SAMPLES, MLP_SECONDS_PER_1K_SAMPLES, NAIVE_BAYES_MAX_DOCUMENTS
from advisor.types import Family, Linearity, Modality, Profile, SequenceShape, SeriesShape, Task
from rules import RULES, decide
from rules.engine import check_rules
from rules.facts import FACTS, facts
from rules.model import Condition, Op, Rule, boost

LINEAR = Linearity(True, 0.97, 0.96, metric="accuracy")
NONLINEAR = Linearity(False, 0.55, 0.91, metric="accuracy")
UNMEASURED = Linearity(None, None, None)


def make_profile(**changes) -> Profile:
    base = Profile(
        source="data.csv", format="csv", rows=1000, columns=10, samples=1000, target="label", target_reason="",
        task=Task.BINARY, classes=2, class_balance={"a": 0.5, "b": 0.5}, minority_fraction=0.5,
        modality=Modality.TABULAR, modality_reason="", column_profiles=(), kind_counts={}, missing_fraction=0.0,
        linearity=NONLINEAR,
    )
    return dataclasses.replace(base, **changes)


SEQUENCE = SequenceShape("series_id", "step", ("value",), 200, 40, 60.0, 80)
SERIES = SeriesShape("month", None, "MS", 12, "12 steps", 1, {"min": 240, "median": 240, "max": 240})
WIDE_SEQUENCE = SequenceShape("", "", tuple(f"t{i}" for i in range(80)), 200, 40, 60.0, 80, layout="wide")

# Each branch of seed 002's tree, with the family it must lead to.
BRANCHES = {
    "unlabelled": (dict(target=None, task=Task.CLUSTERING, classes=0, linearity=UNMEASURED), Family.KMEANS),
    "linear table": (dict(linearity=LINEAR), Family.LINEAR),
    "linear regression": (dict(task=Task.REGRESSION, classes=0, linearity=LINEAR), Family.LINEAR),
    "little non-linear table": (dict(), Family.BOOSTING),
    "lots of non-linear table": (dict(rows=LOTS_OF_DATA_SAMPLES, samples=LOTS_OF_DATA_SAMPLES), Family.MLP),
    # The same table tuned with a budget an MLP cannot train in on a CPU (bench/results/mlp_budget.md), and one it can.
    "lots of non-linear table, short budget": (
        dict(rows=LOTS_OF_DATA_SAMPLES, samples=LOTS_OF_DATA_SAMPLES, budget_s=30.0), Family.BOOSTING,
    ),
    "lots of non-linear table, long budget": (
        dict(rows=LOTS_OF_DATA_SAMPLES, samples=LOTS_OF_DATA_SAMPLES,
             budget_s=MLP_SECONDS_PER_1K_SAMPLES * LOTS_OF_DATA_SAMPLES / 1000), Family.MLP,
    ),
    "lots of linear table": (dict(rows=LOTS_OF_DATA_SAMPLES * 3, samples=LOTS_OF_DATA_SAMPLES * 3, linearity=LINEAR), Family.LINEAR),
    "small text": (dict(modality=Modality.TEXT, task=Task.MULTICLASS, classes=3, linearity=LINEAR), Family.NAIVE_BAYES),
    "large text": (
        dict(modality=Modality.TEXT, rows=NAIVE_BAYES_MAX_DOCUMENTS + 1, samples=NAIVE_BAYES_MAX_DOCUMENTS + 1),
        Family.LINEAR,
    ),
    "text regression": (dict(modality=Modality.TEXT, task=Task.REGRESSION, classes=0), Family.BOOSTING),
    "images": (dict(modality=Modality.IMAGE, image_shape=(28, 28, 1), linearity=LINEAR), Family.CNN),
    "few images": (dict(modality=Modality.IMAGE, image_shape=(8, 8, 1), rows=60, samples=60), Family.CNN),
    "sequences": (dict(modality=Modality.SEQUENCE, sequence=SEQUENCE, samples=200), Family.CONV1D),
    # One row per series: the measured rule lets the probe decide between flat families.
    "wide non-linear sequences": (dict(modality=Modality.SEQUENCE, sequence=WIDE_SEQUENCE, samples=200), Family.BOOSTING),
    "wide linear sequences": (
        dict(modality=Modality.SEQUENCE, sequence=WIDE_SEQUENCE, samples=200, linearity=LINEAR), Family.LINEAR,
    ),
    # A series to forecast: the backtest measures every forecaster; the rules try the linear model on lags first.
    "series to forecast": (dict(task=Task.FORECAST, classes=0, forecast=SERIES, linearity=UNMEASURED), Family.LINEAR),
    # A long one: the recurrent net joins the backtest, after the linear model.
    "long series to forecast": (dict(task=Task.FORECAST, classes=0, forecast=SERIES, linearity=UNMEASURED,
                                     rows=FORECAST_RNN_MIN_STEPS, samples=FORECAST_RNN_MIN_STEPS), Family.LINEAR),
    "unlabelled images": (
        dict(modality=Modality.IMAGE, image_shape=(8, 8, 1), target=None, task=Task.CLUSTERING, linearity=UNMEASURED),
        Family.KMEANS,
    ),
}


def _decided(changes: dict):
    """decide() on a profile with `changes`; a "budget_s" among them is the run's budget, not the profile's."""
    changes = dict(changes)
    budget_s = changes.pop("budget_s", None)
    return decide(make_profile(**changes), RULES, budget_s=budget_s)


@pytest.mark.parametrize("branch", sorted(BRANCHES))
def test_each_branch_of_the_tree(branch):
    changes, family = BRANCHES[branch]
    decision = _decided(changes)
    assert decision.family == family, [(r.family, r.score) for r in decision.ranking]
    assert decision.chosen_by == "rules"
    assert decision.ranking[0].reasons, "the winner must be explained"


def test_every_rule_fires_in_some_branch():
    fired = {t.rule for changes, _ in BRANCHES.values() for t in _decided(changes).trace if t.fired}
    assert fired == {rule.id for rule in RULES}


def test_the_trace_lists_every_rule_with_the_values_it_looked_at():
    decision = decide(make_profile(linearity=LINEAR), RULES)
    assert [t.rule for t in decision.trace] == [r.id for r in RULES]
    probe = next(t for t in decision.trace if t.rule == "probe-linear")
    assert probe.fired and probe.checks[0].actual is True
    assert "0.97" in probe.reason and "0.96" in probe.reason
    little = next(t for t in decision.trace if t.rule == "little-data-boosting")
    assert {c.fact: c.actual for c in little.checks}["samples"] == 1000
    assert "1,000 rows" in little.reason
    unfired = next(t for t in decision.trace if t.rule == "unlabelled-kmeans")
    assert not unfired.fired and unfired.checks[0].passed is False
    assert all(t.source for t in decision.trace)


def test_sources_name_a_seed_or_a_measurement():
    for rule in RULES:
        assert "seed 00" in rule.source or "measurement" in rule.source, rule.id


def test_excluded_families_are_not_ranked():
    decision = decide(make_profile(), RULES)
    ranked = {r.family for r in decision.ranking}
    excluded = {e.family for e in decision.excluded}
    assert {Family.CNN, Family.RNN, Family.KMEANS} <= excluded
    assert not ranked & excluded
    assert ranked | excluded == set(Family)


def test_ranking_is_by_score_then_cost():
    decision = decide(make_profile(linearity=UNMEASURED), RULES)
    scores = [r.score for r in decision.ranking]
    assert scores == sorted(scores, reverse=True)
    zero = [r.family for r in decision.ranking if r.score == 0]
    assert zero == sorted(zero, key=list(Family).index)


def test_family_override_is_recorded():
    decision = decide(make_profile(linearity=LINEAR), RULES, override=Family.MLP)
    assert decision.family == Family.MLP and decision.chosen_by == "override"
    assert "linear first" in decision.notes[0]


def test_override_of_an_excluded_family_says_why_the_rules_excluded_it():
    decision = decide(make_profile(), RULES, override=Family.CNN)
    assert decision.family == Family.CNN
    assert any("excluded cnn" in note for note in decision.notes)


def test_unmeasured_facts_never_satisfy_a_comparison():
    passed, checks = Condition("linear_score", Op.GT, 0.5).evaluate({"linear_score": None})
    assert passed is False and checks[0].actual is None


def test_facts_cover_the_declared_names():
    assert set(facts(make_profile())) == set(FACTS)


def test_rules_naming_unknown_facts_are_rejected_at_load():
    bad = Rule("bad", Condition("rows_count", Op.GT, 1), (boost(Family.LINEAR, 1),), "x", "seed 002")
    with pytest.raises(ValueError, match="unknown fact"):
        check_rules([bad])
    quoting = Rule("quoting", Condition("rows", Op.GT, 1), (boost(Family.LINEAR, 1),), "{nonsense}", "seed 002")
    with pytest.raises(ValueError, match="nonsense"):
        check_rules([quoting])


def test_duplicate_rule_ids_are_rejected():
    rule = Rule("same", Condition("rows", Op.GT, 1), (boost(Family.LINEAR, 1),), "x", "seed 002")
    with pytest.raises(ValueError, match="twice"):
        check_rules([rule, rule])
