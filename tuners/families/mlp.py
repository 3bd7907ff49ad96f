"""The MLP family (seed 002: 'Lots of data, complex situation? Deep learning ... Other? MLP')."""

from __future__ import annotations

from advisor.types import Family
from tuners.families.base import (SEED_000, SEED_001, SEED_002, SEED_003, POPULATION_KEYS, FamilyDef, class_weighting,
                                  TORCH_NOTE, fit_torch_members, input_width, net_defaults, pipeline, weighting_start)
from tuners.space import Choice, IntRange, LogUniform, OneMinusLogUniform, Param, PowersOfTwo, Space, Uniform

def _largest_batch(rows: int) -> int:
    power = 8
    while power * 2 <= min(1024, max(8, rows // 4)):
        power *= 2
    return power


def space(problem) -> Space:
    inputs, outputs = input_width(problem), problem.n_outputs
    start_units = max(4, round((inputs + outputs) / 2))  # seed 002: neurons = mean(inputs, outputs)
    most_units = max(64, min(1024, 4 * inputs), start_units)
    largest_batch = _largest_batch(int(len(problem.x_train) * 0.8))
    return Space(
        {
            "learning_rate": Param(LogUniform(1e-4, 1.0), f"alpha = 10^r, r in [-4, 0] ({SEED_003}); tuned first"),
            "momentum": Param(OneMinusLogUniform(0.9, 0.999), f"beta = 1 - 10^r, r in [-3, -1] ({SEED_003})"),
            "batch_size": Param(PowersOfTwo(8, largest_batch), f"mini-batch sizes are powers of two, 32 a good start ({SEED_001})"),
            "layers": Param(IntRange(1, 3), f"1 to 3 hidden layers: 3 beats 2, more is doubtful outside CNNs ({SEED_001})"),
            "units": Param(IntRange(4, most_units, log=True),
                           f"start at mean(inputs, outputs) ({SEED_002}); more units than inputs can pay ({SEED_001})"),
            "activation": Param(Choice(("relu", "leaky_relu", "elu", "tanh")), f"ReLU family by default, tanh as an option ({SEED_002})"),
            "dropout": Param(Uniform(0.0, 0.5), f"dropout rate ({SEED_000})"),
            "l1": Param(LogUniform(1e-8, 1e-3), f"L1 weight decay lambda_1 ({SEED_000}), log scale"),
            "l2": Param(LogUniform(1e-8, 1e-2), f"L2 weight decay lambda_2 ({SEED_000}), log scale"),
            "optimizer": Param(Choice(("sgd", "adam", "adagrad")), f"SGD with momentum, or Adam / Adagrad ({SEED_001})"),
            "lr_decay": Param(Choice(("none", "linear", "exponential")), f"learning-rate decay ({SEED_001})"),
            "batch_norm": Param(Choice((False, True)), f"batch normalisation on or off ({SEED_003})"),
            **class_weighting(problem),  # a weighted loss (tuners/families/losses.py)
        },
        start={
            "learning_rate": 0.01, "momentum": 0.9, "batch_size": min(32, largest_batch), "layers": 1,
            "units": min(start_units, most_units), "activation": "relu", "dropout": 0.0, "l1": 1e-8, "l2": 1e-8,
            "optimizer": "sgd", "lr_decay": "none", "batch_norm": False, **weighting_start(problem, "balanced"),
        },
    )


def build(config, problem):
    from tuners.families.torch_net import TorchNet  # torch loads only in trials that need it

    return pipeline(problem, TorchNet(dict(config), classes=len(problem.classes), seed=problem.seed))


def defaults(problem):
    # The seeds' starting point is the untuned default: one layer of mean(inputs, outputs) units,
    # SGD with learning rate 0.01 and momentum 0.9, batch 32; the loss unweighted.
    return net_defaults(space(problem), problem)


MLP = FamilyDef(Family.MLP, space, build, defaults, iterative=True, model_format="torch",
                population_keys=POPULATION_KEYS, fit_members=fit_torch_members, population_note=TORCH_NOTE,
                # On a GPU a trial trains them in chunks its memory holds (population.chunk_size);
                # on a CPU 8 members share each batch's Python and framework overhead, 3.3x the
                # configurations per minute of one per trial (bench/results/population_cpu.md).
                population_slots=(8, 64), library="torch", architecture="mlp")
