"""Gradient boosting with CatBoost (Prokhorenkova et al., "CatBoost: unbiased boosting with
categorical features", NeurIPS 2018): symmetric trees, and ordered boosting, which fits each row's
step on a model that has not seen that row, so its defaults overfit small tables less than
XGBoost's. FLAML and AutoGluon both run it; on the tables where the advisor trailed a peer in
bench/results/peers_30s.md its defaults scored level with or above the better peer (anes96,
interactions, cells, sacramento; measured in bench/results/catboost_partner.md).

The rules never pick this family (rules/catalog.py, "catboost-not-ranked"): it runs with
--family catboost, and as the linear model's and XGBoost boosting's blend partner at its library
defaults (FamilyDef.blend_with, tuners/blending.py), where the blend check measures it on folds."""

from __future__ import annotations

import time

import numpy as np
from sklearn.base import BaseEstimator

from advisor.types import Family
from tuners.families.base import FamilyDef, balanced, class_weighting, input_width, pipeline, weighting_start
from tuners.space import Choice, IntRange, LogUniform, Param, Space, Uniform

ITERATIONS = 1000  # CatBoost's default; its learning rate is then set from the rows (when not searched)
DEEPEST = 10  # symmetric trees have 2^depth leaves; CatBoost's documentation advises 4 to 10


class DeadlineCatBoost(BaseEstimator):
    """CatBoost's classifier or regressor that grows no tree after `deadline` (time.time()). The
    fitted library model is `library_model_`, which the export saves in CatBoost's own format."""

    def __init__(self, params: dict | None = None, classes: int = 0, seed: int = 0, threads: int = 1,
                 deadline: float | None = None, balanced: bool = False):
        self.params, self.classes, self.seed, self.threads = params, classes, seed, threads
        self.deadline, self.balanced = deadline, balanced

    def fit(self, x, y):
        from catboost import CatBoostClassifier, CatBoostError, CatBoostRegressor

        common = dict(self.params or {}, random_seed=self.seed, thread_count=self.threads, verbose=0,
                      allow_writing_files=False)
        model = (CatBoostClassifier(auto_class_weights="Balanced" if self.balanced else None, **common) if self.classes
                 else CatBoostRegressor(**common))
        try:
            model.fit(x, np.asarray(y), callbacks=None if self.deadline is None else [_StopAt(self.deadline)])
        except CatBoostError as error:  # one class in a fold's rows, a constant target: a bad fit, as scikit-learn's
            raise ValueError(f"CatBoost: {(str(error).splitlines() or [''])[0][:200]}") from error
        self.library_model_ = model
        if self.classes:
            self.classes_ = model.classes_
        return self

    def predict(self, x):
        predicted = self.library_model_.predict(x)
        return np.asarray(predicted).ravel().astype(int) if self.classes else np.asarray(predicted, dtype=float)

    def predict_proba(self, x):
        return self.library_model_.predict_proba(x)


class _StopAt:
    """A CatBoost callback that ends training at `deadline`."""

    def __init__(self, deadline: float):
        self.deadline = deadline

    def after_iteration(self, info) -> bool:  # True: go on
        return time.time() < self.deadline


def space(problem) -> Space:
    rows = len(problem.x_train)
    depth = int(min(DEEPEST, max(2, np.ceil(np.log2(max(rows, 4))))))
    log = "sampled on a log scale (seed 003)"
    columns = input_width(problem)
    share = (Param(Choice((1.0,)), f"every split weighs all {columns} columns: with so few, sampling leaves no choice")
             if columns <= 3 else
             Param(Uniform(max(0.4, 2.5 / columns), 1.0), "share of the columns each tree's splits are chosen among "
                                                          "(never fewer than 2, so trees can still model interactions)"))
    return Space(
        {"learning_rate": Param(LogUniform(0.01, 0.3), f"step size for {ITERATIONS} trees, {log}"),
         "depth": Param(IntRange(2, depth), f"depth of each symmetric tree; at most {depth}, log2 of the {rows} rows"),
         "l2_leaf_reg": Param(LogUniform(1.0, 30.0), f"L2 penalty on leaf values (CatBoost's default 3), {log}"),
         "rsm": share,
         **class_weighting(problem)},
        start={"learning_rate": 0.05, "depth": min(6, depth), "l2_leaf_reg": 3.0, "rsm": 1.0,
               **weighting_start(problem, "balanced")},
    )


def build(config, problem):
    params = {k: v for k, v in config.items() if k in ("learning_rate", "depth", "l2_leaf_reg", "rsm", "iterations")}
    params.setdefault("iterations", ITERATIONS)
    model = DeadlineCatBoost(params, classes=len(problem.classes), seed=problem.seed, balanced=balanced(config))
    return pipeline(problem, model, scale=False)


# As a blend partner: 300 trees, CatBoost's learning rate set from them and the rows; about a third of
# the defaults' time, within a 30 s run's check (interactions, 2,000 rows: 5 folds in 2.5 s, not 8 s).
PARTNER_ITERATIONS = 300


def partner_start(problem):
    return {"iterations": PARTNER_ITERATIONS, **weighting_start(problem, "none")}


def defaults(problem):
    # CatBoost's own defaults: 1,000 trees of depth 6, L2 3, its learning rate set from the rows.
    return {"iterations": ITERATIONS, **weighting_start(problem, "none")}


CATBOOST = FamilyDef(Family.CATBOOST, space, build, defaults, iterative=False, model_format="catboost",
                     library="catboost", partner_start=partner_start)
