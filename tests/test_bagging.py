"""The bag check (tuners/bagging.py): boosting's bag of 5 is kept unless, on cross-validation folds
of the check's own, one model of the chosen configuration beats it by more than half the standard
error of their paired differences (MARGIN_SE)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from advisor.types import Family
from tuners.bagging import MARGIN_SE, choose_bag
from tuners.data import take, validation_splits
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


def test_the_check_fits_both_on_folds_of_its_own_and_keeps_the_bag_unless_one_model_beats_it(prepared):
    """Not the search's folds, on which the chosen configuration's one-model score is the luckiest of
    many: folds drawn with the next seed, the same for the bag and the one model."""
    problem = prepared("breast_cancer.csv")
    config = BOOSTING.defaults(problem)
    choice = choose_bag(BOOSTING, config, _trial(problem, config), problem, budget_s=1e6, until=None)
    fresh = validation_splits(len(problem.y_train), problem.y_train, problem.task, problem.seed + 1, 5)
    assert not np.array_equal(fresh[0][1], problem.splits[0][1])
    by_hand = {}
    for members in (BAG, 0):  # each fitted and scored by hand on those folds
        folds = []
        for train, valid in fresh:
            model = BOOSTING.build(config, problem).set_params(model__bag=members)
            model.fit(take(problem.x_train, train), problem.y_train[train])
            folds.append(score(problem.metric, model, take(problem.x_train, valid), problem.y_train[valid]))
        by_hand[members] = np.mean(folds)
    check = choice.check
    assert check["folds"] == 5
    assert check["bag"] == pytest.approx(by_hand[BAG], abs=1e-6) and check["one"] == pytest.approx(by_hand[0], abs=1e-6)
    assert (check["kept"] == "one") == (check["one"] - check["bag"] > MARGIN_SE * check["sem"])
    assert choice.members == (BAG if check["kept"] == "bag" else 0)
    assert f"{check['bag']:.4f}" in check["reason"] and f"{check['one']:.4f}" in check["reason"]


def test_one_model_must_beat_the_bag_by_more_than_half_the_paired_standard_error():
    """Ahead by less than half the standard error of the fold-by-fold differences: the bag stays.
    chirps_wide's second split (bench/results/bag_check.md: one model 0.8812, the bag 0.8688, s.e.
    0.0234) is ahead by more than half of it but less than all: one model, which scored 0.95 on
    the test rows where the bag scored 0.775."""
    from tuners.bagging import _decided

    bagged = np.array([0.90, 0.84, 0.94, 0.88, 0.91])
    noisy = _decided(BAG, bagged, bagged + np.array([0.04, -0.02, -0.03, 0.03, 0.0]))
    assert noisy.members == BAG and noisy.check["kept"] == "bag" and noisy.check["sem"] > 0.012
    gain = np.array([0.0625, -0.0625, 0.0, 0.0625, 0.0])  # mean 0.0125, s.e. 0.0234
    chirps = _decided(BAG, bagged, bagged + gain)
    assert chirps.check["sem"] > gain.mean() > MARGIN_SE * chirps.check["sem"]
    assert chirps.members == 0 and chirps.check["kept"] == "one" and "one model is kept" in chirps.check["reason"]


def test_the_run_exports_the_model_the_check_kept_and_says_why(prepared, tmp_path):
    from tuners.export import load_model
    from tuners.finish import finish
    from tuners.settings import TuneSettings

    problem = prepared("breast_cancer.csv")
    config = BOOSTING.defaults(problem)
    settings = TuneSettings(budget_s=600, trials=None, search="random", cpus_per_trial=1, gpus_per_trial=0,
                            address=None, seed=0)
    finished = finish(problem, Family.BOOSTING, config, tmp_path / "model", settings, chosen=_trial(problem, config))
    kept = finished["kept"]
    members = BAG if kept["bag_check"]["kept"] == "bag" else 1
    assert kept["members"] == members and kept["bag_check"]["folds"] == 5
    assert kept["bag_check"]["reason"] in kept["how"]
    blended = kept["blend"]["kept"] == "blend"  # then the bag is the blend's first member (tuners/blending.py)
    assert len(load_model(tmp_path / "model" / ("member-1" if blended else "")).estimator.members_) == members


def test_where_the_check_would_take_over_a_tenth_of_the_budget_the_bag_is_kept_unchecked(prepared):
    problem = prepared("breast_cancer.csv")
    config = BOOSTING.defaults(problem)
    slow = TrialRecord("t1", "random", config, 0.95, "completed", None, None, 50.0, 5)  # 10 s a fold
    choice = choose_bag(BOOSTING, config, slow, problem, budget_s=300.0, until=None)  # 250 s of check > 30 s
    assert choice.members == BAG and choice.check["kept"] == "bag" and choice.check["bag"] is None
    assert "not checked" in choice.check["reason"] and "10% of the budget" in choice.check["reason"]
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
    assert f"a bag of {BAG} scored {check['bag']:.4f}, one model {check['one']:.4f}" in report
