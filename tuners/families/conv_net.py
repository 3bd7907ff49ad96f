"""The 1-D convolutional network of the conv1d family: convolutions along time over padded,
masked sequences (batch, steps, channels + 1; the last channel 1 on real steps, 0 on padding, as
advisor/sequences.py gives them).

Channels are standardised with statistics of the training series (buffers, so the exported
weights carry them), padding is zeroed before and after every convolution, and the series is
summed up by masked average and max pooling over its real steps: a series of any length gives one
vector, and padding never counts. This is the fully convolutional time-series baseline (Wang, Yan
and Oates, "Time series classification from scratch with deep neural networks", 2017): blocks of
convolution, activation and dropout, then global pooling and a linear head.
"""

from __future__ import annotations

import torch
from torch import nn

from tuners.families.recurrent_net import RecurrentNet

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "tanh": nn.Tanh}


class ConvNet1d(nn.Module):
    def __init__(self, input_shape: tuple[int, ...], outputs: int, config: dict):
        super().__init__()
        channels = int(input_shape[-1]) - 1  # the mask is not a feature
        self.register_buffer("mean", torch.zeros(channels))
        self.register_buffer("std", torch.ones(channels))
        filters, kernel = int(config["filters"]), int(config["kernel"])
        self.convs = nn.ModuleList()
        for _ in range(int(config["blocks"])):
            self.convs.append(nn.Conv1d(channels, filters, kernel, padding="same"))
            channels = filters
        self.activation = ACTIVATIONS[config["activation"]]()
        self.dropout = nn.Dropout(float(config["dropout"]))
        self.head = nn.Linear(2 * channels, outputs)  # average and max pooling, side by side

    fit_statistics = RecurrentNet.fit_statistics  # the same per-channel scaling over real steps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask = x[..., -1]
        steps = int(mask.sum(dim=1).max().clamp(min=1))
        keep = mask[:, None, :steps]  # (batch, 1, steps)
        values = (x[:, :steps, :-1] - self.mean) / self.std
        h = torch.nan_to_num(values, nan=0.0).transpose(1, 2) * keep  # a gap is the mean
        for conv in self.convs:
            h = self.dropout(self.activation(conv(h))) * keep
        count = keep.sum(dim=2).clamp(min=1)
        average = h.sum(dim=2) / count
        largest = torch.where(keep.bool(), h, torch.finfo(h.dtype).min).amax(dim=2)
        return self.head(torch.cat([average, largest], dim=1))


def build_conv1d(input_shape: tuple[int, ...], outputs: int, config: dict) -> ConvNet1d:
    return ConvNet1d(input_shape, outputs, config)
