"""Tuners: search spaces (declared once, translated per backend), the search plan, its backends
and the finish. `tune()` is the stage's one entry point: a profiled table and a family in, a
TuneOutcome out.

Importing the package is light (no Ray, no model library): what the pipeline uses loads on first
use, so `advisor predict` and the CLI's start never import Ray.
"""

from __future__ import annotations

from typing import Any

from tuners.backends import BACKENDS, backend_for
from tuners.settings import TuneSettings

__all__ = ["BACKENDS", "TuneOutcome", "TuneSettings", "TuningFailed", "backend_for", "cluster_session", "race", "runnable", "shared_session", "tune"]
_LAZY = {"tune": "tuners.tuning", "TuneOutcome": "tuners.tuning", "cluster_session": "tuners.tuning",
         "shared_session": "tuners.tuning",
         "TuningFailed": "tuners.finish", "race": "tuners.family_race", "runnable": "tuners.family_race"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tuners' has no attribute {name!r}")
