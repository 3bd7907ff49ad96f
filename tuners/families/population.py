"""Population training: many MLP configurations that share an architecture trained at once.

Small models waste a big device: one configuration's batch barely occupies it. Members of a
population share the layers, units, activation, batch norm, batch size, optimiser and decay
schedule, and differ in the continuous hyperparameters (MEMBER_KEYS: learning rate, momentum,
dropout, L1, L2). Their parameters are stacked along a leading member axis and one forward pass,
vectorised over members with `torch.func.vmap`, trains them all. Each member keeps its own
optimiser state, learning-rate schedule, early stopping (patience, seed 001) and best weights; a
member whose loss diverges fails alone.

The architecture is `build_mlp`'s (one definition): the forward walks its modules functionally.
Randomness is per member and does not depend on the population: batches come from a generator
seeded by the seed, dropout masks from a counter-based hash of (seed, step, layer, position). So
a configuration trained in a population ends where it ends trained alone (a population of one,
which is how TorchNet trains every MLP), up to floating-point rounding: tests/test_population.py.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import torch
from torch import nn
from torch.func import vmap

from tuners.families.base import INNER_VALIDATION, POPULATION_KEYS as MEMBER_KEYS
# torch.optim's defaults; Adam keeps its betas at their defaults whatever the momentum (seed 003)
ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON, ADAGRAD_EPSILON = 0.9, 0.999, 1e-8, 1e-10
BATCH_NORM_EPSILON, BATCH_NORM_MOMENTUM = 1e-5, 0.1  # nn.BatchNorm1d's defaults, so exported models agree
LINEAR_DECAY_END, EXPONENTIAL_DECAY = 0.1, 0.95  # as torch_net's LinearLR(1.0 -> 0.1) and ExponentialLR


def shared_part(config: dict) -> dict:
    """What members of one population must have in common."""
    return {k: v for k, v in config.items() if k not in MEMBER_KEYS}


@dataclasses.dataclass
class Member:
    """One trained member: weights for build_mlp(its config), its curve, or why it failed."""

    state: dict[str, torch.Tensor]
    history: list[tuple[int, float, float]]
    best_epoch: int
    stopped_epoch: int
    error: str | None


def _uniform(seed: int, step: int, layer: int, shape: tuple[int, ...], device) -> torch.Tensor:
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


class _Functional:
    """build_mlp's module list run functionally on one member's parameters (vmapped by callers)."""

    def __init__(self, template: nn.Sequential):
        self.modules = list(template)
        self.norms = [i for i, m in enumerate(self.modules) if isinstance(m, nn.BatchNorm1d)]

    def forward(self, params, buffers, keep, x, train: bool):
        """Outputs, and each batch norm's batch mean and variance (for the running statistics).
        `keep[j]` is the j-th dropout's mask already divided by the keep probability."""
        h, stats, dropped = x, [], 0
        for i, module in enumerate(self.modules):
            if isinstance(module, nn.Linear):
                h = torch.nn.functional.linear(h, params[f"{i}.weight"], params.get(f"{i}.bias"))
            elif isinstance(module, nn.BatchNorm1d):
                if train:
                    mean, var = h.mean(0), h.var(0, unbiased=False)
                    stats.append((mean, var))
                else:
                    mean, var = buffers[f"{i}.running_mean"], buffers[f"{i}.running_var"]
                h = (h - mean) / torch.sqrt(var + BATCH_NORM_EPSILON) * params[f"{i}.weight"] + params[f"{i}.bias"]
            elif isinstance(module, nn.Dropout):
                if train:
                    h = h * keep[dropped]
                dropped += 1
            else:  # Flatten and the activations hold no parameters
                h = module(h)
        return h, stats


def _template(input_shape, outputs: int, shared: dict, dropout: bool) -> nn.Sequential:
    from tuners.families.torch_net import build_mlp

    # With any member dropping units every member gets the dropout slots (rate 0 keeps all units),
    # so one module list fits all; with none, no masks are drawn at all.
    return build_mlp(input_shape, outputs, dict(shared, dropout=0.5 if dropout else 0.0))


def _stack(template: nn.Module, members: int, device) -> tuple[dict, dict]:
    """The template's initial parameters and buffers repeated for every member (the same seed
    gives every member the same initial weights, as when each is trained alone)."""
    params = {k: v.detach().to(device).unsqueeze(0).repeat(members, *[1] * v.dim()).requires_grad_()
              for k, v in template.named_parameters()}
    buffers = {k: v.detach().to(device).unsqueeze(0).repeat(members, *[1] * v.dim()) for k, v in template.named_buffers()}
    return params, buffers


def _column(values, device, like: torch.Tensor) -> torch.Tensor:
    """Per-member values shaped to broadcast over a stacked parameter."""
    return torch.as_tensor(values, dtype=like.dtype, device=device).view(-1, *[1] * (like.dim() - 1))


class _Optimiser:
    """SGD with momentum, Adam or Adagrad with a learning rate and momentum per member, as
    torch.optim computes them (dampening 0, no Nesterov; Adam/Adagrad at their defaults)."""

    def __init__(self, kind: str, params: dict, rates: list[float], momenta: list[float]):
        self.kind, self.step_count = kind, 0
        self.state = {k: [torch.zeros_like(p) for _ in range(2 if kind == "adam" else 1)] for k, p in params.items()}
        # Per-member columns, made once (not copied to the device at every step).
        self.rates = {k: _column(rates, p.device, p) for k, p in params.items()}
        self.momenta = {k: _column(momenta, p.device, p) for k, p in params.items()}

    @torch.no_grad()
    def step(self, params: dict, factor: float, active: torch.Tensor) -> None:
        self.step_count += 1
        t = self.step_count
        for name, p in params.items():
            g, state = p.grad, self.state[name]
            moving = active.view(-1, *[1] * (p.dim() - 1))
            lr = self.rates[name] * factor
            if self.kind == "sgd":
                beta = self.momenta[name]
                buffer = g.clone() if t == 1 else state[0] * beta + g
                update = lr * buffer
            elif self.kind == "adam":
                m = state[0].lerp(g, 1 - ADAM_BETA1)
                v = state[1] * ADAM_BETA2 + (1 - ADAM_BETA2) * g * g
                denominator = v.sqrt() / math.sqrt(1 - ADAM_BETA2 ** t) + ADAM_EPSILON
                update = lr / (1 - ADAM_BETA1 ** t) * m / denominator
                state[1].copy_(torch.where(moving, v, state[1]))
                buffer = m
            else:
                buffer = state[0] + g * g
                update = lr * g / (buffer.sqrt() + ADAGRAD_EPSILON)
            state[0].copy_(torch.where(moving, buffer, state[0]))
            p.sub_(torch.where(moving, update, torch.zeros_like(update)))
            p.grad = None


def _schedule(kind: str, epoch: int, max_epochs: int) -> float:
    """The learning-rate factor after `epoch` epochs, as torch_net's LinearLR / ExponentialLR give it."""
    if kind == "linear":
        return 1.0 + (LINEAR_DECAY_END - 1.0) * min(epoch, max_epochs) / max_epochs
    if kind == "exponential":
        return EXPONENTIAL_DECAY ** epoch
    return 1.0


def _member_losses(outputs: torch.Tensor, target: torch.Tensor, classes: int) -> torch.Tensor:
    """Mean loss of each member's outputs (members, rows, outputs) against the shared target."""
    members, rows = outputs.shape[:2]
    if classes:
        flat = torch.nn.functional.cross_entropy(outputs.reshape(members * rows, -1), target.repeat(members),
                                                 reduction="none")
        return flat.view(members, rows).mean(1)
    return ((outputs[..., 0] - target) ** 2).mean(1)


def chunk_size(configs: list[dict], input_width: int, outputs: int, device: torch.device) -> int:
    """Members trained at once: on a GPU as many as half its free memory holds (weights, gradients
    and two optimiser states per weight, and a batch's activations, masks and their gradients per
    layer); on a CPU all of them (memory is not what limits it there)."""
    if device.type != "cuda":
        return len(configs)
    c = configs[0]
    widths = [input_width] + [int(c["units"])] * int(c["layers"]) + [outputs]
    weights = sum((a + 1) * b for a, b in zip(widths, widths[1:]))
    per_member = 4 * (4 * weights + 4 * int(c["batch_size"]) * sum(widths))
    free, _ = torch.cuda.mem_get_info(device)
    return max(1, min(len(configs), int(free * 0.5 // per_member)))


def train(configs: list[dict], x: np.ndarray, y: np.ndarray, classes: int, seed: int, max_epochs: int,
          patience: int, device: torch.device, deadline: float | None = None) -> list[Member]:
    """Train every configuration in `configs` (all with the same shared_part) on dense float32 `x`
    and `y` (class indices, or an already standardised target); one Member each, in order, in
    chunks the device's memory holds."""
    at_once = chunk_size(configs, int(np.prod(x.shape[1:])), classes or 1, device)
    return [member for start in range(0, len(configs), at_once)
            for member in _train_chunk(configs[start:start + at_once], x, y, classes, seed, max_epochs, patience,
                                       device, deadline)]


def _train_chunk(configs: list[dict], x: np.ndarray, y: np.ndarray, classes: int, seed: int, max_epochs: int,
                 patience: int, device: torch.device, deadline: float | None, predict_chunk: int = 4096) -> list[Member]:
    shared = shared_part(configs[0])
    if any(shared_part(c) != shared for c in configs):
        raise ValueError("a population's members must share everything but " + ", ".join(MEMBER_KEYS))
    size = len(configs)
    torch.manual_seed(seed)  # the initial weights, as TorchNet draws them for one configuration
    order = np.random.default_rng(seed).permutation(len(x))
    cut = max(1, int(len(x) * INNER_VALIDATION)) if len(x) >= 20 else 0
    valid, train_rows = order[:cut], order[cut:]
    template = _template(tuple(int(d) for d in x.shape[1:]), classes or 1, shared, any(c["dropout"] > 0 for c in configs))
    net = _Functional(template)
    params, buffers = _stack(template, size, device)
    x_all = torch.as_tensor(x, device=device)
    y_all = torch.as_tensor(y, dtype=torch.long if classes else torch.float32, device=device)
    weights = [k for k, v in template.named_parameters() if k.rsplit(".", 1)[-1].startswith("weight") and v.dim() > 1]
    l1 = torch.tensor([c.get("l1", 0.0) for c in configs], device=device)
    l2 = torch.tensor([c["l2"] for c in configs], device=device)
    rates = torch.tensor([c["dropout"] for c in configs], device=device).view(-1, 1, 1)
    optimiser = _Optimiser(shared["optimizer"], params, [c["learning_rate"] for c in configs],
                           [c.get("momentum", 0.0) for c in configs])
    train_forward = vmap(lambda p, b, k, rows: net.forward(p, b, k, rows, True), in_dims=(0, 0, 0, None))
    eval_forward = vmap(lambda p, b, rows: net.forward(p, b, (), rows, False)[0], in_dims=(0, 0, None))
    widths = _dropout_widths(template)
    names = list(template.state_dict().keys())

    def regularised(losses: torch.Tensor) -> torch.Tensor:
        for name in weights:
            flat = params[name].flatten(1)
            losses = losses + l1 * flat.abs().sum(1) + l2 * (flat * flat).sum(1)
        return losses

    def validation_losses() -> torch.Tensor:
        with torch.no_grad():  # in chunks: members x rows x units must fit the device
            total = torch.zeros(size, device=device)
            for start in range(0, len(valid), predict_chunk):
                rows = torch.as_tensor(valid[start:start + predict_chunk], device=device)
                total += _member_losses(eval_forward(params, buffers, x_all[rows]), y_all[rows], classes) * len(rows)
            return total / len(valid)

    running = [True] * size  # still training (not stopped early, not failed)
    active = torch.tensor(running, device=device)
    errors: list[str | None] = [None] * size
    best = [math.inf] * size
    waited = [0] * size
    histories: list[list[tuple[int, float, float]]] = [[] for _ in range(size)]
    best_params = {k: v.detach().clone() for k, v in params.items()}
    best_buffers = {k: v.clone() for k, v in buffers.items()}
    batch = int(min(shared["batch_size"], max(1, len(train_rows))))
    shuffles = torch.Generator().manual_seed(seed)
    train_index = torch.as_tensor(train_rows, device=device)
    step, factor = 0, 1.0
    for epoch in range(1, max_epochs + 1):
        shuffled = train_index[torch.randperm(len(train_index), generator=shuffles).to(device)]
        totals = torch.zeros(size, device=device)
        first_bad = torch.zeros(size, device=device)  # each member's first non-finite batch loss (kept on the device)
        seen_bad = torch.zeros(size, dtype=torch.bool, device=device)
        for start in range(0, len(shuffled), batch):
            rows = shuffled[start:start + batch]
            if len(rows) < 2 and shared["batch_norm"]:
                continue  # batch norm cannot normalise a single row
            step += 1
            keep = [(_uniform(seed, step, j, (len(rows), w), device) >= rates).float() / (1 - rates) for j, w in enumerate(widths)]
            outputs, stats = train_forward(params, buffers, keep, x_all[rows])
            losses = regularised(_member_losses(outputs, y_all[rows], classes))
            losses.sum().backward()  # members are independent: each gets its own loss's gradient
            with torch.no_grad():
                _update_running_statistics(net, buffers, stats, len(rows), active)
                totals += losses.detach() * len(rows)
                bad = ~torch.isfinite(losses.detach()) & ~seen_bad
                first_bad, seen_bad = torch.where(bad, losses.detach(), first_bad), seen_bad | bad
            optimiser.step(params, factor, active)
        factor = _schedule(shared["lr_decay"], epoch, max_epochs)
        train_losses = torch.where(seen_bad, first_bad, totals / max(1, len(train_rows))).tolist()
        valid_losses = validation_losses().tolist() if cut else train_losses
        improved = []
        for i in range(size):
            if not running[i]:
                continue
            for what, value in (("training", train_losses[i]), ("validation", valid_losses[i])):
                if errors[i] is None and not math.isfinite(value):
                    errors[i] = f"{what} loss became {value} at epoch {epoch}"
            if errors[i] is not None:
                running[i] = False
                continue
            histories[i].append((epoch, train_losses[i], valid_losses[i]))
            if valid_losses[i] < best[i] - 1e-7:
                best[i], waited[i] = valid_losses[i], 0
                improved.append(i)
            else:
                waited[i] += 1
                if waited[i] >= patience:
                    running[i] = False  # this member stops; the others go on
        if improved:
            keep_mask = torch.zeros(size, dtype=torch.bool, device=device)
            keep_mask[improved] = True
            with torch.no_grad():
                for store, source in ((best_params, params), (best_buffers, buffers)):
                    for k in store:
                        mask = keep_mask.view(-1, *[1] * (source[k].dim() - 1))
                        store[k] = torch.where(mask, source[k].detach(), store[k])
        active = torch.tensor(running, device=device)  # one copy per epoch, not one per member
        if not any(running) or (deadline is not None and time.time() >= deadline):
            break
    kept = {**best_params, **best_buffers}
    return [Member(state={k: kept[k][i].detach().cpu() for k in names},
                   history=histories[i], best_epoch=min(histories[i], key=lambda h: h[2])[0] if histories[i] else 0,
                   stopped_epoch=histories[i][-1][0] if histories[i] else 0, error=errors[i]) for i in range(size)]


def _dropout_widths(template: nn.Sequential) -> list[int]:
    """Units each dropout layer sees (the width of the linear layer before it)."""
    widths, width = [], 0
    for module in template:
        if isinstance(module, nn.Linear):
            width = module.out_features
        elif isinstance(module, nn.Dropout):
            widths.append(width)
    return widths


def _update_running_statistics(net: _Functional, buffers: dict, stats: list, rows: int, active: torch.Tensor) -> None:
    """nn.BatchNorm1d's running mean and (unbiased) variance, for members still training."""
    for index, (mean, var) in zip(net.norms, stats):
        moving = active.view(-1, 1)
        for name, value in ((f"{index}.running_mean", mean), (f"{index}.running_var", var * rows / max(1, rows - 1))):
            updated = buffers[name] * (1 - BATCH_NORM_MOMENTUM) + value.detach() * BATCH_NORM_MOMENTUM
            buffers[name] = torch.where(moving, updated, buffers[name])
        tracked = f"{index}.num_batches_tracked"
        buffers[tracked] = buffers[tracked] + active.to(buffers[tracked].dtype)


def load_member(network: nn.Module, member: Member) -> None:
    """Put a member's weights into build_mlp(its own config): the same modules in the same order,
    less the dropout slots, which hold no weights."""
    network.load_state_dict(dict(zip(network.state_dict().keys(), member.state.values())))
