"""Random forests, in the extremely randomised variant (Geurts, Ernst and Wehenkel, "Extremely
randomized trees", Machine Learning 63, 2006): every tree sees every row, and each split's threshold
is drawn at random for a share of the columns, the best of those kept. No tree learns the others'
errors as boosting's do, so the two err differently, and their blend can beat either.

The seeds' tree has no branch for forests: the rules never pick this family (rules/catalog.py,
"forest-not-ranked"); it runs with --family forest, and as boosting's second blend partner after
the linear model (FamilyDef.blend_with, tuners/blending.py), measured in bench/results/blend.md
(with both partners boosting's starts gained +0.53 test points on average at 1 s.e., against +0.20
with the linear model alone) and bench/results/peers_30s.md (boston's boosted trees blended with
it: test R^2 0.706 -> 0.729). Beside linear models it added nothing and is not their partner."""

from __future__ import annotations

import math
import time
import warnings

from sklearn.base import BaseEstimator
from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor

from advisor.types import Family
from tuners.families.base import FamilyDef, balanced, class_weighting, input_width, pipeline, weighting_start
from tuners.space import Choice, IntRange, Param, Space, Uniform

# More trees only lower the variance of the average (Geurts et al. 2006, section 4.1; scikit-learn's
# 100 is the default, which `defaults` keeps); 300 keeps a 1,000-row fit under a second on one core.
TREES = 300
FIXED_TREES = "n_estimators"  # the library's defaults grow scikit-learn's 100
LIBRARY_TREES = 100
MIN_COLUMNS = 2  # as boosting's column sampling: a split choice among one column is no choice
LEAF_ROWS = 50  # the largest leaf searched is at most a fiftieth of the rows (and 20)
CHUNK = 50  # trees grown between looks at the deadline


class DeadlineForest(BaseEstimator):
    """scikit-learn's extremely randomised trees, grown CHUNK trees at a time (warm start) until
    `trees` or `deadline` (time.time()): on 16,000 rows one forest of 300 trees took longer than the
    blend check's whole share of a 30 s run, and the refit after it was cut short. The fitted library
    model is `library_model_`, which the export saves (tuners/export.py) and loads without this class."""

    def __init__(self, trees: int = TREES, max_features: float = 1.0, min_samples_leaf: int = 1, balanced: bool = False,
                 classes: int = 0, seed: int = 0, deadline: float | None = None):
        self.trees, self.max_features, self.min_samples_leaf = trees, max_features, min_samples_leaf
        self.balanced, self.classes, self.seed, self.deadline = balanced, classes, seed, deadline

    def fit(self, x, y):
        common = dict(max_features=self.max_features, min_samples_leaf=self.min_samples_leaf, random_state=self.seed,
                      n_jobs=1, warm_start=True)
        forest = (ExtraTreesClassifier(class_weight="balanced" if self.balanced else None, **common) if self.classes
                  else ExtraTreesRegressor(**common))
        grown = 0
        with warnings.catch_warnings():  # the same rows every chunk: warm start's class-weight caveat does not apply
            warnings.simplefilter("ignore", UserWarning)
            while grown < self.trees and not (grown and self.deadline is not None and time.time() >= self.deadline):
                grown = min(self.trees, grown + CHUNK)
                forest.set_params(n_estimators=grown).fit(x, y)
        self.library_model_ = forest.set_params(warm_start=False)
        if self.classes:
            self.classes_ = forest.classes_
        return self

    def predict(self, x):
        return self.library_model_.predict(x)

    def predict_proba(self, x):
        return self.library_model_.predict_proba(x)


def column_share(columns: int, classification: bool) -> tuple[Param, float]:
    """max_features as a share of the columns: searched from MIN_COLUMNS columns up to all, with the
    start at Geurts et al.'s defaults, sqrt(columns) for classes and every column for values."""
    if columns <= MIN_COLUMNS + 1:
        return Param(Choice((1.0,)), f"every split weighs all {columns} columns: with so few, sampling leaves no choice"), 1.0
    low = min(1.0, (MIN_COLUMNS + 0.5) / columns)  # + 0.5: int(share x columns) floors at MIN_COLUMNS
    start = max(low, (int(math.sqrt(columns)) + 0.5) / columns) if classification else 1.0
    return (Param(Uniform(low, 1.0), f"share of the {columns} columns each split draws a threshold for, from {low:.2f} "
                                     f"({MIN_COLUMNS} columns); Geurts et al. 2006 start at sqrt(columns) for classes, "
                                     "all columns for values"), start)


def space(problem) -> Space:
    columns, rows = input_width(problem), len(problem.x_train)
    share, start_share = column_share(columns, bool(problem.classes))
    biggest_leaf = int(max(1, min(20, rows // LEAF_ROWS)))
    leaf = (Param(IntRange(1, biggest_leaf), f"fewest rows in a leaf, up to {biggest_leaf} (a fiftieth of the {rows} "
                                            "rows, at most 20): larger leaves average noise away")
            if biggest_leaf > 1 else Param(Choice((1,)), f"fewest rows in a leaf: 1, with only {rows} rows"))
    return Space({"max_features": share, "min_samples_leaf": leaf, **class_weighting(problem)},
                 start={"max_features": start_share, "min_samples_leaf": 1, **weighting_start(problem, "balanced")})


def build(config, problem):
    model = DeadlineForest(int(config.get(FIXED_TREES, TREES)), config["max_features"], int(config["min_samples_leaf"]),
                           balanced(config), len(problem.classes), problem.seed)
    return pipeline(problem, model, scale=False)


def defaults(problem):
    # scikit-learn's ExtraTrees defaults: 100 trees, sqrt(columns) for classes and all for values, leaves
    # of 1. It keeps int(share x columns) columns: + 0.5 lands the share's floor on int(sqrt(columns)).
    columns = input_width(problem)
    share = 1.0 if not problem.classes or columns <= MIN_COLUMNS + 1 else (int(math.sqrt(columns)) + 0.5) / columns
    return {FIXED_TREES: LIBRARY_TREES, "max_features": share, "min_samples_leaf": 1,
            **weighting_start(problem, "none")}


FOREST = FamilyDef(Family.FOREST, space, build, defaults, iterative=False, model_format="skops",
                   blend_with=(Family.LINEAR, Family.BOOSTING))
