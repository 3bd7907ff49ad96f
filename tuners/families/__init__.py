"""The families that can be tuned, by name. A new family is a new entry here."""

from __future__ import annotations

from advisor.types import Family
from tuners.families.base import FamilyDef
from tuners.families.boosting import BOOSTING
from tuners.families.cnn import CNN
from tuners.families.kmeans import KMEANS
from tuners.families.linear import LINEAR
from tuners.families.mlp import MLP
from tuners.families.naive_bayes import NAIVE_BAYES
from tuners.families.rnn import RNN

FAMILIES: dict[Family, FamilyDef] = {f.family: f for f in (LINEAR, NAIVE_BAYES, BOOSTING, MLP, KMEANS, CNN, RNN)}


def family_def(family: Family) -> FamilyDef:
    if family not in FAMILIES:
        raise KeyError(family)
    return FAMILIES[family]
