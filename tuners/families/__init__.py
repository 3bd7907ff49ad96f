"""The families that can be tuned, by name. A new family is a new entry here."""

from __future__ import annotations

import importlib

from advisor.types import Family
from tuners.backends import BACKENDS
from tuners.families.base import FamilyDef
from tuners.families.boosting import BOOSTING
from tuners.families.cnn import CNN
from tuners.families.conv1d import CONV1D
from tuners.families.forest import FOREST
from tuners.families.kmeans import KMEANS
from tuners.families.linear import LINEAR
from tuners.families.mlp import MLP
from tuners.families.naive_bayes import NAIVE_BAYES
from tuners.families.rnn import RNN

FAMILIES: dict[Family, FamilyDef] = {f.family: f for f in (LINEAR, NAIVE_BAYES, BOOSTING, FOREST, MLP, KMEANS, CNN, CONV1D, RNN)}


def family_def(family: Family, tuner: str = "ray") -> FamilyDef:
    """The family as a backend trains it: a backend that builds its own models (KerasTuner's Keras
    networks, `BackendEntry.builds`) adapts the entry; otherwise it is the entry in FAMILIES."""
    if family not in FAMILIES:
        raise KeyError(family)
    entry = BACKENDS[tuner]
    if entry.builds and entry.tunes(family):
        module, name = entry.builds.split(":")
        return getattr(importlib.import_module(module), name)(FAMILIES[family])
    return FAMILIES[family]
