"""What every family declares: its search space, how to build a model from a config, and its
library-default config (the baseline a tuned model must beat)."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from advisor.features import preprocessor
from advisor.types import Family
from tuners.data import Problem
from tuners.presearch import PreSearch
from tuners.space import Choice, Param, Space

from tuners.families.training import (GRADIENT_CLIP_NORM, INNER_VALIDATION, MAX_EPOCHS, PATIENCE,  # noqa: F401
                                      POPULATION_KEYS, DivergedError, dense_float32)

SEED_000 = "seed 000_dc93ed4f8e62522b.txt"
SEED_001 = "seed 001_f5acf137fc652578.txt"
SEED_002 = "seed 002_dec45b93dff8989c.txt"
SEED_003 = "seed 003_8fb25344b2e44aac.txt"


@dataclasses.dataclass(frozen=True)
class FamilyDef:
    family: Family
    space: Callable[[Problem], Space]
    build: Callable[[dict[str, Any], Problem], Pipeline]
    defaults: Callable[[Problem], dict[str, Any]]
    iterative: bool  # trains in epochs/rounds: early stopping inside, ASHA on top
    model_format: str  # how the fitted model is exported: skops, xgboost or torch
    # Families that train populations: which keys members may differ in, and how to fit built
    # pipelines together on one fold (returns each member's error, None where it trained).
    population_keys: tuple[str, ...] = ()
    fit_members: Callable[[list[Pipeline], Any, Any], list[str | None]] | None = None
    # Members per Ray trial by default (the user's --population overrides), without and with a GPU.
    population_slots: tuple[int, int] = (1, 1)
    # For the report: what a population's members share and how they train (tuning.resources.population_note).
    population_note: str = ""
    inputs: str = "table"  # what it trains on: table (feature columns), image or sequence (arrays); tuners.data.INPUTS
    pre_search: PreSearch | None = None
    library: str = "scikit-learn"  # the package that trains it (its version goes in the report)
    # The network it trains, by name in the architecture registries (torch: networks.ARCHITECTURES;
    # Keras: keras_net.ARCHITECTURES); empty for the families that are not nets.
    architecture: str = ""
    # Members of the model the run keeps: its estimator's `bag` parameter fits the chosen
    # configuration once per fold and averages them (boosting); 0 keeps one model fitted on all rows.
    bag: int = 0
    bag_note: str = ""  # how the bag's members are fitted, for the result's `model.how` and the report
    # The families whose start configurations the kept model may be blended with, in the order the
    # check fits them: the best blend is kept where it beats the model alone on folds of their own
    # (tuners/blending.py); () for none.
    blend_with: tuple[Family, ...] = ()
    # The configuration this family brings to another's blend (tuners/blending.py); None: its space's start.
    partner_start: Callable[[Problem], dict[str, Any]] | None = None


def partner_config(definition: FamilyDef, problem: Problem) -> dict[str, Any]:
    """What `definition`'s family is fitted at as another family's blend partner."""
    return definition.partner_start(problem) if definition.partner_start else definition.space(problem).start


TORCH_NOTE = ("the members of a trial share the architecture, batch size and optimiser and differ in learning rate, "
              "momentum, dropout, L1 and L2; they train at once, vectorised with torch.func, each with its own "
              "optimiser state and early stopping, and each is listed below as a trial")


def fit_torch_members(models: list[Pipeline], x, y) -> list[str | None]:
    """FamilyDef.fit_members of the torch families: torch_net.fit_pipelines, imported in the trial
    (torch loads only where a net trains)."""
    from tuners.families.torch_net import fit_pipelines

    return fit_pipelines(models, x, y)


def fit_each_member(models: list[Pipeline], x, y) -> list[str | None]:
    """FamilyDef.fit_members of the scikit-learn families, whose preprocessing does not depend on
    the configuration: it is fitted once (the first member's) and each member's model is fitted on
    its output in turn; a member that fails drops out alone."""
    transformed = models[0][:-1].fit_transform(x, y)  # as Pipeline.fit runs a plain configuration's
    errors: list[str | None] = []
    for model in models:
        try:
            model[-1].fit(transformed, y)
            errors.append(None)
        except (ValueError, ArithmeticError, np.linalg.LinAlgError) as error:
            errors.append(f"{type(error).__name__}: {(str(error).splitlines() or [''])[0][:200]}")
    return errors


# Configurations per Ray trial for the families that fit in milliseconds to a second: Ray's own
# cost, 0.08 s a trial with reused actors and more with the run's data and loggers
# (bench/results/ray_trial_overhead.md), was most of a linear search's time; a trial of 8 spends
# it once for all 8. With these, the calibration corpus's nine linear sets in
# bench/results/peers_30s.md ran 12-18 s whole runs at a 30 s budget, where they took 15-19 s
# with one configuration a trial.
CHEAP_SLOTS = (8, 8)
CHEAP_NOTE = ("the members of a trial share one fitted preprocessing per fold and differ in every searched "
              "hyperparameter; they are fitted one after another in the same Ray trial, and each is listed below as a "
              "trial")


def array_pipeline(model) -> Pipeline:
    """Arrays (images) need no column preprocessing: an identity step keeps one model layout for export."""
    return Pipeline([("features", FunctionTransformer()), ("model", model)])


WIDTH_SAMPLE_ROWS = 1_000
CLASS_WEIGHTING = "class_weight"


def class_weighting(problem: Problem) -> dict[str, Param]:
    """The class-weighting choice, when the run is scored by balanced accuracy (imbalanced classes):
    weighting each class by its inverse frequency is what that metric rewards, so whether to is
    searched; otherwise nothing (issue 18: models trained without weights scored 0.65 balanced
    accuracy on tables with 3% and 16% positives)."""
    if problem.metric != "balanced_accuracy":
        return {}
    return {CLASS_WEIGHTING: Param(Choice(("none", "balanced")),
                                   "balanced accuracy is the metric, so classes may be weighted by inverse frequency")}


def weighting_start(problem: Problem, value: str) -> dict[str, str]:
    """The class-weighting value of a start or default configuration, where the space has one."""
    return {CLASS_WEIGHTING: value} if class_weighting(problem) else {}


TARGET_SCALE = "target_scale"
# Kuhn and Johnson, Applied Predictive Modeling (2013), 3.2: a sample skewness well above 0 marks a
# right-skewed outcome, and a log removes most of it. Sale prices are the common case (ames, skewness
# 1.74: boosting's start fitted on the log scored 0.9126 cross-validated R^2 on the price scale against
# 0.8977, and 0.8885 on the test rows against 0.8807). A target with zeros is left out: its log needs
# an offset whose size depends on the unit (randhie, 31% zeros: 0.1148 against 0.1511 with log(1 + y)).
# Boosting searches it; a linear model does not: exp of its extrapolations on ames's outlying houses
# scored 0.37, and an L1 penalty's strength is in the target's units.
SKEWED = 1.0


def target_scaling(problem: Problem) -> dict[str, Param]:
    """The target-scale choice, for a strictly positive, right-skewed numeric target: models fitted
    on its log (predictions mapped back with exp, scored on the target's own scale) or on it as it
    is; otherwise nothing."""
    y = problem.y_train
    numeric = y is not None and len(y) >= 3 and np.issubdtype(np.asarray(y).dtype, np.number)
    if problem.classes or not numeric or np.min(y) <= 0:
        return {}
    skew = skewness(y)
    if skew <= SKEWED:
        return {}
    return {TARGET_SCALE: Param(Choice(("raw", "log")),
                                f"the target is positive and right-skewed (skewness {skew:.2f} > {SKEWED:g}; Kuhn "
                                "and Johnson, Applied Predictive Modeling, 3.2): fitted on its log (mapped back with "
                                "exp and Duan's smearing factor: a mean, not a median), or as it is; scored on its "
                                "own scale either way")}


def scaling_start(problem: Problem, value: str) -> dict[str, str]:
    """The target-scale value of a start or default configuration, where the space has one."""
    return {TARGET_SCALE: value} if target_scaling(problem) else {}


def skewness(y) -> float:
    values = np.asarray(y, dtype=float)
    spread = values.std()
    return float(np.mean(((values - values.mean()) / spread) ** 3)) if spread > 0 else 0.0


def logged(config: dict[str, Any]) -> bool:
    return config.get(TARGET_SCALE) == "log"


def borrowed(flat: Space, names: tuple[str, ...]) -> tuple[dict[str, Param], dict[str, Any]]:
    """The parameters and start values a net's space takes from another's (the MLP's optimiser and
    regularisation): `names`, with the class weighting where the metric searches it."""
    wanted = (*names, CLASS_WEIGHTING)
    return ({name: flat.params[name] for name in wanted if name in flat.params},
            {name: flat.start[name] for name in wanted if name in flat.start})


def net_defaults(space, problem: Problem) -> dict[str, Any]:
    """A net's untuned configuration: the seeds' start with the loss unweighted (the libraries' default)."""
    return {**space.start, **weighting_start(problem, "none")}


def balanced(config: dict[str, Any]) -> bool:
    return config.get(CLASS_WEIGHTING) == "balanced"


def input_width(problem: Problem) -> int:
    """Features after preprocessing (one-hot and TF-IDF widen the table), measured on a sample."""
    if not hasattr(problem.x_train, "iloc"):  # image or sequence arrays
        return int(np.prod(problem.x_train.shape[1:]))
    sample = problem.x_train.iloc[:WIDTH_SAMPLE_ROWS]
    features = preprocessor(problem.spec, classification=bool(problem.classes))
    labels = None if problem.y_train is None else problem.y_train[:WIDTH_SAMPLE_ROWS]
    return int(features.fit_transform(sample, labels).shape[1])


def bounded(model: Pipeline, until: float | None) -> Pipeline:
    """The model with its estimator's `deadline` (time.time()) set, where it has one: boosting and the
    forest grow no more trees after it, the nets start no more epochs."""
    if until is not None and "deadline" in model[-1].get_params():
        model.set_params(model__deadline=until)
    return model


def pipeline(problem: Problem, model, scale: bool = True) -> Pipeline:
    """Preprocessing (fitted inside each fold) followed by the model."""
    features = preprocessor(problem.spec, scale=scale, classification=bool(problem.classes))
    return Pipeline([("features", features), ("model", model)])
