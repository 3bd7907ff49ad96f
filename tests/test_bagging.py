"""The bag check (tuners/bagging.py): boosting's bag of 5 is kept only where, on the search's own
folds, it scores at least what the chosen configuration scored there as one model."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from advisor.types import Family
from tuners.bagging import choose_bag
from tuners.data import take
from tuners.evaluation import evaluate_with
from tuners.families import FAMILIES
from tuners.families.boosting import BAG
from tuners.metrics import score
from tuners.records import TrialRecord

BOOSTING = FAMILIES[Family.BOOSTING]


def _trial(problem, config) -> TrialRecord:
    """The configuration scored as a search's trial scores it: one model, every fold."""
    reports: list[dict] = []
    evaluate_with(BOOSTING, config, reports.append, problem)
    return TrialRecord("t1", "random", config, reports[-1]["score"], "completed", None, None, 1.0, len(problem.splits))


def test_the_check_scores_the_bag_on_the_folds_the_trial_was_scored_on_and_keeps_the_better(prepared):
    problem = prepared("breast_cancer.csv")
    config = BOOSTING.defaults(problem)
    trial = _trial(problem, config)
    choice = choose_bag(BOOSTING, config, trial, problem, budget_s=1e6, until=None)
    folds = []
    for train, valid in problem.splits:  # the bag, fitted and scored by hand on the same folds
        model = BOOSTING.build(config, problem).set_params(model__bag=BAG)
        model.fit(take(problem.x_train, train), problem.y_train[train])
        folds.append(score(problem.metric, model, take(problem.x_train, valid), problem.y_train[valid]))
    check = choice.check
    assert check["folds"] == len(problem.splits) == 5
    assert check["bag"] == pytest.approx(np.mean(folds), abs=1e-6) and check["one"] == pytest.approx(trial.score)
    assert (check["kept"] == "bag") == (check["bag"] >= check["one"])
    assert choice.members == (BAG if check["kept"] == "bag" else 0)
    assert f"{check['bag']:.4f}" in check["reason"] and f"{check['one']:.4f}" in check["reason"]


@pytest.mark.parametrize("one_wins", [True, False])
def test_the_run_exports_the_model_the_check_kept_and_says_why(prepared, tmp_path, one_wins):
    """The finish hands the chosen trial to the check: where its one-model score is above the bag's
    on the same folds, one model on all rows is exported; where below, the bag's 5 members."""
    from tuners.export import load_model
    from tuners.finish import finish
    from tuners.settings import TuneSettings

    problem = prepared("breast_cancer.csv")
    config = BOOSTING.defaults(problem)
    bag_score = choose_bag(BOOSTING, config, _trial(problem, config), problem, 1e6, None).check["bag"]
    chosen = dataclasses.replace(_trial(problem, config), score=bag_score + (0.001 if one_wins else -0.001))
    settings = TuneSettings(budget_s=600, trials=None, search="random", cpus_per_trial=1, gpus_per_trial=0,
                            address=None, seed=0)
    finished = finish(problem, Family.BOOSTING, config, tmp_path / "model", settings, chosen=chosen)
    kept = finished["kept"]
    members = 1 if one_wins else BAG
    assert kept["members"] == members and kept["bag_check"]["kept"] == ("one" if one_wins else "bag")
    assert kept["bag_check"]["reason"] in kept["how"]
    assert len(load_model(tmp_path / "model").estimator.members_) == members
    if one_wins:  # one model of the defaults is the baseline itself
        assert finished["baseline_test"] == finished["test"]


def test_where_the_check_would_take_over_a_quarter_of_the_budget_the_bag_is_kept_unchecked(prepared):
    problem = prepared("breast_cancer.csv")
    config = BOOSTING.defaults(problem)
    slow = TrialRecord("t1", "random", config, 0.95, "completed", None, None, 50.0, 5)  # 10 s a fold
    choice = choose_bag(BOOSTING, config, slow, problem, budget_s=300.0, until=None)  # 200 s of check > 75 s
    assert choice.members == BAG and choice.check["kept"] == "bag" and choice.check["bag"] is None
    assert "not checked" in choice.check["reason"] and "25% of the budget" in choice.check["reason"]
    assert choose_bag(FAMILIES[Family.LINEAR], {}, slow, problem, 300.0, None).check is None  # no bag to check


def test_a_boosting_run_records_the_check_in_its_result_and_report(examples_dir, run_cli, tmp_path):
    out = tmp_path / "run"
    result = run_cli("recommend", examples_dir / "breast_cancer.csv", "--family", "boosting", "--trials", "3",
                     "--budget", "120s", "--out", out, "--json")
    assert result.exit_code == 0, result.stderr
    model = json.loads(result.stdout)["model"]
    check = model["bag_check"]
    assert check["folds"] == 5 and check["kept"] in ("bag", "one") and check["bag"] is not None
    assert model["members"] == (BAG if check["kept"] == "bag" else 1)
    report = (out / "report.html").read_text(encoding="utf-8")
    assert f"a bag of {BAG} scored {check['bag']:.4f} over the search" in report
