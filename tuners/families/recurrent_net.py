"""The recurrent network of the RNN family: a stacked LSTM or GRU over padded, masked sequences.

Input: (batch, steps, channels + 1), the last channel 1 on real steps and 0 on padding (see
advisor/sequences.py). Channels are standardised with statistics of the training series, kept as
buffers so the exported weights carry them. Series of unequal length are packed, so padding never
reaches the cell; the last layer's final state (both directions when bidirectional) feeds the head.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

CELLS = {"lstm": nn.LSTM, "gru": nn.GRU}


class RecurrentNet(nn.Module):
    def __init__(self, input_shape: tuple[int, ...], outputs: int, config: dict):
        super().__init__()
        channels = int(input_shape[-1]) - 1  # the mask is not a feature
        hidden, layers = int(config["units"]), int(config["layers"])
        dropout = float(config["dropout"])
        self.bidirectional = bool(config["bidirectional"])
        self.register_buffer("mean", torch.zeros(channels))
        self.register_buffer("std", torch.ones(channels))
        # Dropout between stacked layers only: PyTorch applies it to every layer's output but the last.
        self.cell = CELLS[config["cell"]](channels, hidden, num_layers=layers, batch_first=True,
                                          dropout=dropout if layers > 1 else 0.0, bidirectional=self.bidirectional)
        directions = 2 if self.bidirectional else 1
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden * directions, outputs))

    @torch.no_grad()
    def fit_statistics(self, x: torch.Tensor) -> None:
        """Per-channel mean and spread over the real (unpadded, present) steps of the training series."""
        values, mask = x[..., :-1], x[..., -1:].bool() & ~torch.isnan(x[..., :-1])
        count = mask.sum(dim=(0, 1)).clamp(min=1)
        mean = torch.where(mask, values, 0.0).sum(dim=(0, 1)) / count
        spread = (torch.where(mask, values - mean, 0.0) ** 2).sum(dim=(0, 1)) / count
        self.mean.copy_(mean)
        self.std.copy_(torch.where(spread > 0, spread.sqrt(), torch.ones_like(spread)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask = x[..., -1]
        lengths = mask.sum(dim=1).clamp(min=1).long()
        steps = int(lengths.max())
        values = (x[:, :steps, :-1] - self.mean) / self.std
        values = torch.nan_to_num(values, nan=0.0) * mask[:, :steps, None]  # a gap is the mean
        if int(lengths.min()) == steps:  # all the same length: no packing needed
            _, state = self.cell(values)
        else:
            packed = pack_padded_sequence(values, lengths.cpu(), batch_first=True, enforce_sorted=False)
            _, state = self.cell(packed)
        if isinstance(state, tuple):  # an LSTM returns (hidden, cell state)
            state = state[0]
        last = torch.cat([state[-2], state[-1]], dim=1) if self.bidirectional else state[-1]
        return self.head(last)


def build_rnn(input_shape: tuple[int, ...], outputs: int, config: dict) -> RecurrentNet:
    return RecurrentNet(input_shape, outputs, config)
