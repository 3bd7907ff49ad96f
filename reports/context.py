"""The report's wording, worked out in Python from the stored result, so templates hold no logic on
a backend's or a search's name: a new backend or search is a new entry in these tables."""

from __future__ import annotations

from typing import Any

from markupsafe import escape

RANDOM = "random sampling (seed 003: <q>try randomly sampling instead of grid searching</q>)"
# backend -> how it is named, where its trials ran, and whether its trials carry an epoch budget
BACKENDS = {
    "ray": {"title": "Ray Tune", "where": "Ray cluster", "epochs": False},
    "keras": {"title": "KerasTuner, with Keras 3 models", "where": "KerasTuner, in one process", "epochs": True},
}
# (backend, search) -> the search in words (trusted markup: written here, never from data)
SEARCHES = {
    ("ray", "random"): RANDOM.replace("random sampling", "random sampling first", 1) + ", then coarse to fine: a "
    "second random stage inside the ranges spanned by the best quarter of the first (seed 003: <q>densely search "
    "in a small region</q>)",
    ("ray", "bayes"): "Bayesian optimisation (Optuna's TPE through Ray Tune)",
    ("keras", "hyperband"): "Hyperband (KerasTuner's default): random configurations, most trained briefly and the "
    "best promoted to more epochs",
    ("keras", "bayes"): "Bayesian optimisation (KerasTuner's Gaussian process), after random points",
    ("keras", "random"): RANDOM,
}
ANCHORS = "the library's default configuration and the seeds' starting point first, through every fold"
BEFORE_ANCHORS = "the seeds' starting point first"  # runs from before the defaults joined the race


def tuning_context(result: dict[str, Any]) -> dict[str, Any]:
    """{"backend", "where", "epochs", "search"} for the report's tuning section ({} when not tuned)."""
    tuning = result.get("tuning")
    if not tuning:
        return {}
    backend = BACKENDS.get(tuning["backend"], {"title": tuning["backend"], "where": "", "epochs": False})
    words = SEARCHES.get((tuning["backend"], tuning["search"])) or str(escape(tuning["search"]))
    first = ANCHORS if "defaults" in tuning else BEFORE_ANCHORS
    return {**backend, "search": f"{words}; {first}"}
