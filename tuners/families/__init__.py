"""The families that can be tuned, by name. A new family is a new entry here."""

from __future__ import annotations

import dataclasses

from advisor.types import Family
from tuners.families.base import FamilyDef
from tuners.families.boosting import BOOSTING
from tuners.families.cnn import CNN
from tuners.families.conv1d import CONV1D
from tuners.families.kmeans import KMEANS
from tuners.families.linear import LINEAR
from tuners.families.mlp import MLP
from tuners.families.naive_bayes import NAIVE_BAYES
from tuners.families.rnn import RNN

FAMILIES: dict[Family, FamilyDef] = {f.family: f for f in (LINEAR, NAIVE_BAYES, BOOSTING, MLP, KMEANS, CNN, CONV1D, RNN)}
# The families built as Keras models under the KerasTuner backend (same spaces, Keras 3 networks).
KERAS_FAMILIES = {Family.MLP: "mlp", Family.CNN: "cnn", Family.RNN: "rnn"}
TUNERS = ("ray", "keras")


def family_def(family: Family, tuner: str = "ray") -> FamilyDef:
    """The family as a backend trains it: the KerasTuner backend builds the neural families in
    Keras; everything else (and every family under Ray Tune) is the entry in FAMILIES."""
    if family not in FAMILIES:
        raise KeyError(family)
    if tuner == "keras" and family in KERAS_FAMILIES:
        from tuners.families.keras_net import builder

        return dataclasses.replace(FAMILIES[family], build=builder(KERAS_FAMILIES[family]), model_format="keras")
    return FAMILIES[family]
