"""The forward passes a population trains through: each member's parameters are one slice of
stacked tensors (a leading member axis), and one call runs every member on the same batch.

Two ways, chosen by the architecture:
- `Vectorised` (MLP, CNN): the network's own module list (build_mlp / build_cnn) walked with
  functional ops and vectorised over members with `torch.func.vmap`: one batched kernel per layer
  for all members. Batch norm is done by hand (vmap cannot update running statistics in place) and
  dropout masks come from a counter-based hash of (seed, step, layer, position), so they do not
  depend on the population.
- `MemberLoop` (RNN): PyTorch's LSTM/GRU kernels have no vmap rule ("Batching rule not implemented
  for aten::lstm.input"), and a hand-written cell loop is about 5x slower than nn.LSTM alone on this CPU
  and slower still vectorised over members (bench/results/population_deep_cpu.md). So each member runs
  its own module (its dropout rates) on its slice of the stacked weights, with the random generator
  seeded by (seed, step): a member computes exactly what it computes alone. Members still share one
  trial, one copy of the data on the device and one optimiser step over the stacked weights.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, vmap

BATCH_NORM_EPSILON, BATCH_NORM_MOMENTUM = 1e-5, 0.1  # nn.BatchNorm's defaults, so exported models agree
NORMS = (nn.BatchNorm1d, nn.BatchNorm2d)


def uniform(seed: int, step: int, layer: int, shape: tuple[int, ...], device) -> torch.Tensor:
    """Uniform [0, 1) numbers from a hash of (seed, step, layer, position): the same for a member
    wherever it trains (alone, in any population, on any device). SplitMix64's finaliser, in int64
    with wrap-around; right shifts are masked to act as logical shifts."""
    count = int(np.prod(shape))
    x = torch.arange(count, device=device, dtype=torch.int64)
    # The key fills the bits above the position's 20 (positions beyond 2^20 still differ: the sum
    # wraps), kept below 2^43 so the offset fits an int64.
    x = x + ((seed * 0x9E3779B1 + step * 0x85EBCA77 + layer * 0xC2B2AE3D) & ((1 << 43) - 1)) * (1 << 20)
    for shift, multiplier in ((30, -4658895280553007687), (27, -7723592293110705685)):  # 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
        x = (x ^ ((x >> shift) & ((1 << (64 - shift)) - 1))) * multiplier
    x = x ^ ((x >> 31) & ((1 << 33) - 1))
    return (((x >> 40) & 0xFFFFFF).to(torch.float32) / float(1 << 24)).view(shape)


def _per_channel(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A channel vector shaped to broadcast over (rows, channels, ...) activations."""
    return values.view(-1, *[1] * (like.dim() - 2))


class Vectorised:
    """build_mlp's or build_cnn's nn.Sequential run functionally, all members at once."""

    def __init__(self, template: nn.Sequential, seed: int):
        self.modules, self.seed = list(template), seed
        self.norms = [i for i, m in enumerate(self.modules) if isinstance(m, NORMS)]
        self.counts: dict[int, int] = {}  # values behind each batch norm's last batch statistics

    def _forward(self, params, buffers, rate, x, train: bool, step: int):
        """One member: outputs, and each batch norm's batch mean and variance."""
        h, stats, dropped = x, [], 0
        for i, module in enumerate(self.modules):
            if isinstance(module, nn.Linear):
                h = nn.functional.linear(h, params[f"{i}.weight"], params.get(f"{i}.bias"))
            elif isinstance(module, nn.Conv2d):
                h = nn.functional.conv2d(h, params[f"{i}.weight"], params.get(f"{i}.bias"), module.stride,
                                         module.padding, module.dilation, module.groups)
            elif isinstance(module, NORMS):
                h = h.float()  # statistics in float32 under bfloat16 autocast, as nn.BatchNorm keeps them
                if train:
                    dims = [0] + list(range(2, h.dim()))  # every axis but the channels
                    mean, var = h.mean(dims), h.var(dims, unbiased=False)
                    stats.append((mean, var))
                    self.counts[i] = h.numel() // h.shape[1]  # the same for every member
                else:
                    mean, var = buffers[f"{i}.running_mean"], buffers[f"{i}.running_var"]
                scale = params[f"{i}.weight"] / torch.sqrt(var + BATCH_NORM_EPSILON)
                h = (h - _per_channel(mean, h)) * _per_channel(scale, h) + _per_channel(params[f"{i}.bias"], h)
            elif isinstance(module, nn.Dropout):
                if train:  # the same numbers for every member; each keeps by its own rate
                    h = h * ((uniform(self.seed, step, dropped, tuple(h.shape), h.device) >= rate).float() / (1 - rate))
                dropped += 1
            else:  # Flatten, pooling and the activations hold no parameters
                h = module(h)
        return h, stats

    def train_step(self, params, buffers, rates, x, step: int):
        """(members, rows, outputs) and the batch-norm statistics (for `after_step`)."""
        return vmap(lambda p, b, r, rows: self._forward(p, b, r, rows, True, step), in_dims=(0, 0, 0, None))(
            params, buffers, rates, x)

    def evaluate(self, params, buffers, x) -> torch.Tensor:
        return vmap(lambda p, b, rows: self._forward(p, b, None, rows, False, 0)[0], in_dims=(0, 0, None))(
            params, buffers, x)

    def after_step(self, buffers: dict, stats: list, active: torch.Tensor) -> None:
        """nn.BatchNorm's running mean and (unbiased) variance, for members still training."""
        for index, (mean, var) in zip(self.norms, stats):
            count = self.counts[index]
            moving = active.view(-1, 1)
            for name, value in ((f"{index}.running_mean", mean), (f"{index}.running_var", var * count / max(1, count - 1))):
                updated = buffers[name] * (1 - BATCH_NORM_MOMENTUM) + value.detach() * BATCH_NORM_MOMENTUM
                buffers[name] = torch.where(moving, updated, buffers[name])
            tracked = f"{index}.num_batches_tracked"
            buffers[tracked] = buffers[tracked] + active.to(buffers[tracked].dtype)


class MemberLoop:
    """Each member's own module (built from its config: its dropout rates) on its weight slice."""

    def __init__(self, networks: list[nn.Module], seed: int):
        self.networks, self.seed = networks, seed

    def _run(self, params, buffers, x, train: bool, step: int) -> torch.Tensor:
        outputs = []
        for i, network in enumerate(self.networks):
            network.train(train)
            if train:  # dropout draws what it draws for this member alone
                torch.manual_seed(self.seed * 1_000_003 + step)
            state = {**{k: v[i] for k, v in params.items()}, **{k: v[i] for k, v in buffers.items()}}
            outputs.append(functional_call(network, state, (x,)))
        return torch.stack(outputs)

    def train_step(self, params, buffers, rates, x, step: int):
        return self._run(params, buffers, x, True, step), []

    def evaluate(self, params, buffers, x) -> torch.Tensor:
        return self._run(params, buffers, x, False, 0)

    def after_step(self, buffers: dict, stats: list, active: torch.Tensor) -> None:
        """No running statistics to keep (the recurrent net has no batch norm)."""
