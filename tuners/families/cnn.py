"""The CNN family for images (seed 002: 'Vision? CNN'). Optimiser and learning-rate ranges are the
MLP's; the architecture adds convolution blocks, filters, kernel size and light augmentation."""

from __future__ import annotations

from advisor.types import Family
from tuners.families.base import (POPULATION_KEYS, borrowed, SEED_000, SEED_001, FamilyDef, array_pipeline,
                                  TORCH_NOTE, fit_torch_members, net_defaults)
from tuners.families.mlp import space as mlp_space
from tuners.space import Choice, IntRange, Param, PowersOfTwo, Space

SHARED = ("learning_rate", "momentum", "batch_size", "activation", "dropout", "l2", "optimizer", "lr_decay", "batch_norm")


def space(problem) -> Space:
    flat = mlp_space(problem)
    params, start = borrowed(flat, SHARED)
    params.update(
        blocks=Param(IntRange(1, 3), f"convolution blocks: for CNNs deeper can pay ({SEED_001})"),
        filters=Param(PowersOfTwo(8, 64), "filters in the first block, doubling per block"),
        kernel=Param(Choice((3, 5)), "kernel size of every convolution"),
        units=Param(IntRange(16, 256, log=True), f"width of the dense head ({SEED_000}: units are a hyperparameter)"),
        augment=Param(Choice(("none", "shift")), "light augmentation: random shifts of one pixel"),
    )
    start.update(blocks=2, filters=32, kernel=3, units=64, augment="none", dropout=0.25, optimizer="adam",
                 learning_rate=1e-3)  # Adam at its default step is the usual first CNN try
    return Space(params, start=start)


def build(config, problem):
    from tuners.families.torch_net import TorchNet  # torch loads only in trials that need it

    return array_pipeline(TorchNet(dict(config, l1=0.0), classes=len(problem.classes), seed=problem.seed, architecture="cnn"))


def defaults(problem):
    return net_defaults(space(problem), problem)


# Populations vectorise the CNN with vmap (grouped convolutions): on this CPU that is slower than
# one member after another (bench/results/population_deep_cpu.md), so populations are for GPUs.
CNN = FamilyDef(Family.CNN, space, build, defaults, iterative=True, model_format="torch",
                population_keys=POPULATION_KEYS, fit_members=fit_torch_members, population_note=TORCH_NOTE,
                population_slots=(1, 64),
                inputs="image", library="torch", architecture="cnn")


