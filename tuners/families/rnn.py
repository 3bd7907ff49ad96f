"""The RNN family for sequences (seed 002: 'Time? LSTM'). Seed 001 names its two main questions,
the cell type (LSTM or GRU) and the number of stacked layers; the cell is settled first by the
duel (tuners/duel.py), the rest is searched. Optimiser and learning-rate ranges are the MLP's."""

from __future__ import annotations

from advisor.types import Family
from tuners.families.base import (POPULATION_KEYS, borrowed, SEED_000, SEED_001, FamilyDef, array_pipeline,
                                  TORCH_NOTE, fit_torch_members, net_defaults)
from tuners.duel import DUEL
from tuners.families.mlp import space as mlp_space
from tuners.space import Choice, IntRange, Param, Space, Uniform

SHARED = ("learning_rate", "momentum", "batch_size", "l2", "optimizer", "lr_decay")
CELLS = ("gru", "lstm")  # GRU first: fewer gates, cheaper; it wins the duel's ties


def space(problem) -> Space:
    flat = mlp_space(problem)
    params, start = borrowed(flat, SHARED)
    params.update(
        cell=Param(Choice(CELLS), f"LSTM or GRU: 'try both, only on a random subset of the data' ({SEED_001})"),
        layers=Param(IntRange(1, 3), f"stacked recurrent layers, the second main RNN question ({SEED_001})"),
        units=Param(IntRange(8, 256, log=True), f"hidden units per layer and direction ({SEED_000}: units are a hyperparameter)"),
        bidirectional=Param(Choice((False, True)), "read each series forwards only, or both ways"),
        dropout=Param(Uniform(0.0, 0.5), f"dropout between stacked layers and before the head ({SEED_000})"),
    )
    # LSTM is the more common cell (seed 001); Adam at its default step is the usual first try.
    start.update(cell="lstm", layers=1, units=64, bidirectional=False, dropout=0.0, optimizer="adam", learning_rate=1e-3)
    return Space(params, start=start)


def build(config, problem):
    from tuners.families.torch_net import TorchNet  # torch loads only in trials that need it

    return array_pipeline(TorchNet(dict(config), classes=len(problem.classes), seed=problem.seed, architecture="rnn"))


def defaults(problem):
    return net_defaults(space(problem), problem)


# Recurrent members train one after another inside the trial (functional_nets.MemberLoop: the
# LSTM/GRU kernels do not vectorise), sharing its data on the device: a few per GPU trial, none on a CPU.
RNN = FamilyDef(Family.RNN, space, build, defaults, iterative=True, model_format="torch",
                population_keys=POPULATION_KEYS, fit_members=fit_torch_members, population_note=TORCH_NOTE,
                population_slots=(1, 8),
                inputs="sequence", pre_search=DUEL, library="torch", architecture="rnn")
