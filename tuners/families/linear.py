"""Linear and logistic regression (seed 002: 'Linear? Linear regression, logistic regression')."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import ElasticNet, Lasso, LogisticRegression, Ridge
from sklearn.utils.class_weight import compute_class_weight

from advisor.types import Family
from tuners.families.base import (CHEAP_NOTE, CHEAP_SLOTS, CLASS_WEIGHTING, SEED_000, SEED_003, FamilyDef, balanced,
                                   class_weighting, fit_each_member, pipeline, weighting_start)
from tuners.space import Choice, LogUniform, Param, Space

L1_RATIO = {"l2": 0.0, "l1": 1.0, "elasticnet": 0.5}
# SAGA (the L1 and elastic-net logistic regressions) stops when the coefficients move less than this.
# scikit-learn's 1e-4 mostly ran to max_iter: 1.5x to 9.8x the fit time (digits: 62-82 s against
# 8-12 s for 5 fits), for 0.44 points less to 0.06 more accuracy (bench/results/linear_saga.md).
SAGA_TOL = 1e-3


def space(problem) -> Space:
    return Space(
        {
            "strength": Param(
                LogUniform(1e-4, 1e2),
                f"regularisation strength (1/C, or alpha) spans six decades: sampled on a log scale ({SEED_003}); "
                f"weight decay is a hyperparameter ({SEED_000})",
            ),
            "penalty": Param(Choice(("l2", "l1", "elasticnet")), f"L2, L1 or both ({SEED_000}: L1 and L2 weight decay)"),
            **class_weighting(problem),
        },
        start={"strength": 1.0, "penalty": "l2", **weighting_start(problem, "balanced")},
    )


def saga_weights(y, c: float) -> dict:
    """Balanced class weights for SAGA as the same objective with every weight at most 1: each
    class's inverse-frequency weight over the largest, C times the largest. SAGA's step size assumes
    weights of at most 1; with 'balanced' ones (17 for ISLR Default's 3% of defaults) it ran to
    max_iter unconverged, 1.2 s a fit, where this converges in about 10 epochs, 0.02 s
    (bench/results/linear_saga_weights.md)."""
    labels = np.unique(y)
    weights = compute_class_weight("balanced", classes=labels, y=y)
    top = float(weights.max())
    return {"C": c * top, "class_weight": {int(k): float(w / top) for k, w in zip(labels, weights)}}


def defaults(problem):
    # scikit-learn's defaults: C = 1 with an L2 penalty, no class weights.
    return {"strength": 1.0, "penalty": "l2", **weighting_start(problem, "none")}


def build(config, problem):
    strength, penalty = config["strength"], config["penalty"]
    if problem.classes:
        weights = {"C": 1.0 / strength, "class_weight": "balanced" if balanced(config) else None}
        saga = {}
        if penalty != "l2":  # SAGA shuffles the rows each epoch: seeded
            saga = {"solver": "saga", "tol": SAGA_TOL, "random_state": problem.seed}
            weights = saga_weights(problem.y_train, weights["C"]) if balanced(config) else weights
        model = LogisticRegression(l1_ratio=L1_RATIO[penalty], max_iter=3000, **weights, **saga)
    elif penalty == "l2":
        model = Ridge(alpha=strength)
    elif penalty == "l1":
        model = Lasso(alpha=strength, max_iter=5000)
    else:
        model = ElasticNet(alpha=strength, l1_ratio=0.5, max_iter=5000)
    return pipeline(problem, model)


# The forest as a second partner was measured and left out: beside boosting it added nothing at 1 s.e.
# (-0.07 test points on average against +0.10 with boosting alone over 13 set-splits, worst -3.32 on
# diabetes) where boosting gains from it (+0.53 against +0.20: bench/results/blend.md).
LINEAR = FamilyDef(Family.LINEAR, space, build, defaults, iterative=False, model_format="skops",
                   population_keys=("strength", "penalty", CLASS_WEIGHTING), fit_members=fit_each_member,
                   population_slots=CHEAP_SLOTS, population_note=CHEAP_NOTE,
                   blend_with=(Family.BOOSTING,))
