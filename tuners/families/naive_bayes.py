"""Naive Bayes (seed 002: 'Simple? Naive Bayes'), in the variant that fits the columns:
multinomial over TF-IDF for text, multinomial over one-hot counts for all-categorical tables,
Gaussian for numeric ones."""

from __future__ import annotations

from sklearn.naive_bayes import GaussianNB, MultinomialNB

from advisor.types import Family
from tuners.families.base import (CHEAP_NOTE, CHEAP_SLOTS, CLASS_WEIGHTING, SEED_003, FamilyDef, balanced,
                                   class_weighting, fit_each_member, pipeline, weighting_start)
from tuners.space import LogUniform, Param, Space


def variant(problem) -> str:
    spec = problem.spec
    if spec.text:
        return "multinomial"
    if spec.categorical and not (spec.numeric or spec.datetime):
        return "multinomial"
    return "gaussian"


def space(problem) -> Space:
    # Class weighting, for naive Bayes: uniform priors instead of the classes' frequencies.
    weighting = class_weighting(problem)
    if variant(problem) == "multinomial":
        return Space(
            {"alpha": Param(LogUniform(1e-3, 10.0), f"additive smoothing across four decades, log scale ({SEED_003})"),
             **weighting},
            start={"alpha": 1.0, **weighting_start(problem, "balanced")},
        )
    return Space(
        {"var_smoothing": Param(LogUniform(1e-12, 1e-2), f"variance smoothing across ten decades, log scale ({SEED_003})"),
         **weighting},
        start={"var_smoothing": 1e-9, **weighting_start(problem, "balanced")},
    )


def build(config, problem):
    uniform = balanced(config)  # every class equally likely a priori: what balanced accuracy rewards
    if variant(problem) == "multinomial":
        # Counts and TF-IDF are non-negative already; scaling would make them negative.
        return pipeline(problem, MultinomialNB(alpha=config["alpha"], fit_prior=not uniform), scale=False)
    priors = [1.0 / len(problem.classes)] * len(problem.classes) if uniform else None
    return pipeline(problem, GaussianNB(var_smoothing=config["var_smoothing"], priors=priors))


def defaults(problem):
    found = {"alpha": 1.0} if variant(problem) == "multinomial" else {"var_smoothing": 1e-9}
    return {**found, **weighting_start(problem, "none")}


NAIVE_BAYES = FamilyDef(Family.NAIVE_BAYES, space, build, defaults, iterative=False, model_format="skops",
                        population_keys=("alpha", "var_smoothing", CLASS_WEIGHTING), fit_members=fit_each_member,
                        population_slots=CHEAP_SLOTS, population_note=CHEAP_NOTE)
