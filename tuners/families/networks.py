"""The torch networks the families train, by architecture: an MLP over feature vectors, a CNN over
images (N, channels, height, width), and the sequence nets (conv_net.py, recurrent_net.py) over
masked series (N, steps, channels + 1). A new torch architecture is a builder and one entry in
ARCHITECTURES, which also says how a population trains it (population.py)."""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np
from torch import nn

from tuners.families.conv_net import build_conv1d
from tuners.families.recurrent_net import build_rnn

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "tanh": nn.Tanh}


def build_mlp(input_shape: tuple[int, ...], outputs: int, config: dict) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Flatten()]
    width = int(np.prod(input_shape))
    for _ in range(int(config["layers"])):
        # Batch norm subtracts the mean, so a bias before it has no gradient but rounding noise,
        # which Adam and Adagrad would scale up to full steps: no bias there.
        layers.append(nn.Linear(width, int(config["units"]), bias=not config["batch_norm"]))
        if config["batch_norm"]:
            layers.append(nn.BatchNorm1d(int(config["units"])))
        layers.append(ACTIVATIONS[config["activation"]]())
        if config["dropout"] > 0:
            layers.append(nn.Dropout(float(config["dropout"])))
        width = int(config["units"])
    layers.append(nn.Linear(width, outputs))
    return nn.Sequential(*layers)


def build_cnn(input_shape: tuple[int, ...], outputs: int, config: dict) -> nn.Sequential:
    """Convolution blocks (conv, batch norm, activation, 2x2 pooling while the image is big enough),
    then a dense head. Each block doubles the filters, as CNNs deepen (seed 001: deeper can pay)."""
    channels, height, width = input_shape
    layers: list[nn.Module] = []
    filters = int(config["filters"])
    for _ in range(int(config["blocks"])):
        # No bias before batch norm, as in build_mlp: its gradient is rounding noise that Adam scales up.
        layers.append(nn.Conv2d(channels, filters, int(config["kernel"]), padding="same", bias=not config["batch_norm"]))
        if config["batch_norm"]:
            layers.append(nn.BatchNorm2d(filters))
        layers.append(ACTIVATIONS[config["activation"]]())
        if min(height, width) >= 4:
            layers.append(nn.MaxPool2d(2))
            height, width = height // 2, width // 2
        channels, filters = filters, filters * 2
    layers += [nn.Flatten(), nn.Linear(channels * height * width, int(config["units"])), ACTIVATIONS[config["activation"]]()]
    if config["dropout"] > 0:
        layers.append(nn.Dropout(float(config["dropout"])))
    layers.append(nn.Linear(int(config["units"]), outputs))
    return nn.Sequential(*layers)


@dataclasses.dataclass(frozen=True)
class Architecture:
    """A torch network a family trains: its builder and how a population trains it."""

    build: Callable[[tuple[int, ...], int, dict], nn.Module]
    vectorised: bool  # members vmapped over one module list (functional_nets.Vectorised); else a loop
    clip_gradients: bool = False  # back-propagation through time can explode the gradient
    mixed_precision: bool = False  # bfloat16 autocast on a GPU for the training forward pass
    activation_factor: float = 3.0  # activation memory per row, times what two rows measure (population.chunk_size)


# A new torch architecture is a builder and one entry here.
ARCHITECTURES = {
    "mlp": Architecture(build_mlp, vectorised=True, mixed_precision=True),
    "cnn": Architecture(build_cnn, vectorised=True, mixed_precision=True),
    "rnn": Architecture(build_rnn, vectorised=False, clip_gradients=True, activation_factor=18.0),  # every step's gates
    "conv1d": Architecture(build_conv1d, vectorised=False),
}


def build_network(architecture: str, input_shape: tuple[int, ...], outputs: int, config: dict) -> nn.Module:
    return ARCHITECTURES[architecture].build(tuple(input_shape), outputs, config)
