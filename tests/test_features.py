"""advisor.features: how columns become model inputs, on a real table whose categories outnumber
what one-hot keeps (modeldata's Sacramento house sales: city 37 levels, zip code 68)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import r2_score

from advisor.features import MAX_ONE_HOT_CATEGORIES, FeatureSpec


def _validation_r2(model_for, problem) -> float:
    y = np.asarray(problem.y_train)
    scores = []
    for fit, held in problem.splits:
        model = model_for(problem).fit(problem.x_train.iloc[fit], y[fit])
        scores.append(r2_score(y[held], model.predict(problem.x_train.iloc[held])))
    return float(np.mean(scores))


def test_categories_beyond_what_one_hot_keeps_also_enter_as_their_target_mean(sacramento):
    """One-hot keeps 20 levels and folds the rest together, so most zip codes' prices were lost; the
    columns with more levels are also given as their cross-fitted target mean, and XGBoost's
    defaults score higher in validation for it (0.654 against 0.623, bench/results/target_mean.md)."""
    from advisor.types import Family
    from tuners.families import FAMILIES

    described, problem = sacramento
    assert problem.spec.target_mean == ("city", "zip")
    assert all(column in problem.spec.categorical for column in problem.spec.target_mean)
    assert FeatureSpec.from_profiles(described.column_profiles, None).target_mean == ()  # no target: nothing to average
    levels = problem.x_train["zip"].nunique()
    assert levels > MAX_ONE_HOT_CATEGORIES

    boosting = FAMILIES[Family.BOOSTING]
    def defaults(p):
        return boosting.build(boosting.defaults(p), p)
    one_hot_only = dataclasses.replace(problem, spec=dataclasses.replace(problem.spec, target_mean=()))
    with_means, without = _validation_r2(defaults, problem), _validation_r2(defaults, one_hot_only)
    assert with_means > without + 0.01, (with_means, without)


def test_a_model_with_target_means_exports_and_predicts_levels_it_never_saw(sacramento_csv, run_cli, tmp_path):
    """The result and the report say which columns enter as target means; the fitted encoder travels
    in the export (scikit-learn types only, which skops loads), and a zip code absent from training
    gets the overall mean instead of an error."""
    out = tmp_path / "run"
    result = run_cli("recommend", sacramento_csv, "--target", "price", "--family", "linear", "--trials", "2",
                     "--out", out)
    assert result.exit_code == 0, result.stderr
    inputs = json.loads((out / "result.json").read_text())["model"]["inputs"]
    assert "city, zip (more than 20 levels) also as the target's mean per level" in inputs
    assert "city, zip (more than 20 levels)" in (out / "report.html").read_text()  # the report says it too
    rows = pd.read_csv(out / "test_split.csv").head(5)
    rows["zip"] = ["z00000", "z00001", "z00002", "z00003", "z00004"]
    rows["city"] = "NOWHERE"
    rows.drop(columns=["price"]).to_csv(tmp_path / "new.csv", index=False)
    predicted = run_cli("predict", out, tmp_path / "new.csv", "--out", tmp_path / "predictions.csv")
    assert predicted.exit_code == 0, predicted.stderr
    prices = pd.read_csv(tmp_path / "predictions.csv")["prediction"]
    assert len(prices) == 5 and np.isfinite(prices).all() and (prices > 0).all()
