"""The 1-D convolutional family for sequences: convolutions along time (tuners/families/conv_net.py).
The evidence in shared/DATASETS.md found convolutional models winning or tying 9 of 11
sequence-classification sets; the rules rank this family against the RNN from the measurement in
bench/results/conv1d_sequences.md. Optimiser and learning-rate ranges are the MLP's."""

from __future__ import annotations

from advisor.types import Family
from tuners.families.base import (POPULATION_KEYS, borrowed, SEED_000, SEED_001, FamilyDef, array_pipeline,
                                  TORCH_NOTE, fit_torch_members, net_defaults)
from tuners.families.mlp import space as mlp_space
from tuners.space import Choice, IntRange, Param, PowersOfTwo, Space

SHARED = ("learning_rate", "momentum", "batch_size", "activation", "dropout", "l2", "optimizer", "lr_decay")


def space(problem) -> Space:
    flat = mlp_space(problem)
    params, start = borrowed(flat, SHARED)
    longest = int(problem.x_train.shape[1])
    # Odd kernels: 'same' padding with an even kernel makes torch copy the input.
    kernels = tuple(k for k in (3, 5, 7) if k <= max(3, longest))
    params.update(
        blocks=Param(IntRange(1, 3), f"convolution blocks; deeper can pay for convolutions ({SEED_001})"),
        filters=Param(PowersOfTwo(16, 128), f"filters per block ({SEED_000}: units are a hyperparameter)"),
        kernel=Param(Choice(kernels), f"steps each filter spans, at most the longest series ({longest} steps)"),
    )
    # A small fully convolutional net first (2 blocks of 32 filters, 5-step kernels where the series
    # are that long), with Adam at its default step, the usual first try for deep nets.
    start.update(blocks=2, filters=32, kernel=5 if 5 in kernels else kernels[-1], dropout=0.1, optimizer="adam",
                 learning_rate=1e-3)
    return Space(params, start=start)


def build(config, problem):
    from tuners.families.torch_net import TorchNet  # torch loads only in trials that need it

    return array_pipeline(TorchNet(dict(config, l1=0.0), classes=len(problem.classes), seed=problem.seed,
                                   architecture="conv1d"))


def defaults(problem):
    return net_defaults(space(problem), problem)


# Members run one after another inside a trial (functional_nets.MemberLoop), sharing its data.
CONV1D = FamilyDef(Family.CONV1D, space, build, defaults, iterative=True, model_format="torch",
                   population_keys=POPULATION_KEYS, fit_members=fit_torch_members, population_note=TORCH_NOTE,
                   population_slots=(1, 8),
                   inputs="sequence", library="torch", architecture="conv1d")
