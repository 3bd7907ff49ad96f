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
# Each number may enter as a cubic B-spline basis with this many knots: a linear model of smooth
# curves, one per column (an additive model: Hastie, Tibshirani and Friedman, The Elements of
# Statistical Learning, 2nd ed., chapter 5 and section 9.1). 0 keeps the number as it is.
SPLINE_KNOTS = (0, 4, 6)
# Columns a basis is offered for at most: each becomes knots + 2 columns.
SPLINE_MAX_COLUMNS = 50


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
            **splines(problem),
        },
        start={"strength": 1.0, "penalty": "l2", **weighting_start(problem, "balanced"), **no_splines(problem)},
    )


def splines(problem) -> dict[str, Param]:
    """The spline choice, where the table has 1 to SPLINE_MAX_COLUMNS numeric columns. Measured on 26
    tabular sets x 2 splits, cross-validation's pick with 0, 4 or 6 knots against its pick with none:
    median +0.62 test points, higher on 29, lower on 2 (iris -3.33: one row; breast_cancer -2.63),
    concrete +24 and +33 R^2 points, boston +9 and +10, wage +0.6 and +1.2, credit_card and attrition
    +3 to +7 balanced accuracy (bench/results/linear_splines.md)."""
    numbers = len(problem.spec.numeric) + len(problem.spec.datetime)
    if not 0 < numbers <= SPLINE_MAX_COLUMNS:
        return {}
    return {"splines": Param(Choice(SPLINE_KNOTS), "each number as a cubic spline of 4 or 6 knots, or as it is: "
                             "a curve per column where the target bends (ESL 2nd ed., ch. 5, 9.1)")}


def no_splines(problem) -> dict[str, int]:
    """The start's and the defaults' value: numbers as they are."""
    return {"splines": 0} if splines(problem) else {}


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
    # scikit-learn's defaults: C = 1 with an L2 penalty, no class weights, numbers as they are.
    return {"strength": 1.0, "penalty": "l2", **weighting_start(problem, "none"), **no_splines(problem)}


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
    return pipeline(problem, model, splines=config.get("splines", 0))


LINEAR = FamilyDef(Family.LINEAR, space, build, defaults, iterative=False, model_format="skops",
                   population_keys=("strength", "penalty", CLASS_WEIGHTING, "splines"), fit_members=fit_each_member,
                   population_slots=CHEAP_SLOTS, population_note=CHEAP_NOTE)
