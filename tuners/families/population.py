"""Population training: many configurations of a neural family that share an architecture,
trained at once.

Small models waste a big device: one configuration's batch barely occupies it. Members of a
population share the architecture (layers, units, filters, cell...), batch size, optimiser and
decay schedule, and differ in the continuous hyperparameters (MEMBER_KEYS: learning rate, momentum,
dropout, L1, L2). Their parameters are stacked along a leading member axis and one forward pass
(functional_nets.py: vectorised with `torch.func.vmap` for the MLP and CNN, a loop over members
for the RNN) trains them all. Each member keeps its own optimiser state, learning-rate schedule,
early stopping (patience, seed 001) and best weights; a member whose loss diverges fails alone.

The architectures are torch_net's (one definition). Randomness is per member and does not depend
on the population: batches and image shifts come from generators seeded by the seed, dropout from
(seed, step). So a configuration trained in a population ends where it ends trained alone (a
population of one, which is how TorchNet trains every net), up to floating-point rounding:
tests/test_population.py.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time

import numpy as np
import torch
from torch import nn

from tuners.families.base import GRADIENT_CLIP_NORM, INNER_VALIDATION, POPULATION_KEYS as MEMBER_KEYS
from tuners.families.functional_nets import MemberLoop, Vectorised
# torch.optim's defaults; Adam keeps its betas at their defaults whatever the momentum (seed 003)
ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON, ADAGRAD_EPSILON = 0.9, 0.999, 1e-8, 1e-10
LINEAR_DECAY_END, EXPONENTIAL_DECAY = 0.1, 0.95  # as LinearLR(1.0 -> 0.1) and ExponentialLR(0.95) give them


def shared_part(config: dict) -> dict:
    """What members of one population must have in common."""
    return {k: v for k, v in config.items() if k not in MEMBER_KEYS}


@dataclasses.dataclass
class Member:
    """One trained member: weights for torch_net.build_network(its config), its curve, or why it failed."""

    state: dict[str, torch.Tensor]
    history: list[tuple[int, float, float]]
    best_epoch: int
    stopped_epoch: int
    error: str | None


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


def chunk_size(template: nn.Module, sample: torch.Tensor, architecture: str, members: int, batch: int,
               device: torch.device) -> int:
    """Members a GPU trains at once: as many as half its free memory holds, by an estimate (weights,
    gradients and two optimiser states per weight; a batch's activations, masks and their gradients,
    measured on two rows, and for a recurrent net every step's gates)."""
    weights = sum(p.numel() for p in template.parameters())
    activations = []
    hooks = [m.register_forward_hook(lambda m, i, o: activations.append((o[0] if isinstance(o, tuple) else o).numel()))
             for m in template.modules() if not list(m.children())]
    with torch.no_grad():
        template.to(device).eval()(sample[:2])
    for hook in hooks:
        hook.remove()
    per_row = sum(activations) / 2 * (6 * 3 if architecture == "rnn" else 3)
    per_member = 4 * (4 * weights + batch * per_row)
    free, _ = torch.cuda.mem_get_info(device)
    return max(1, min(members, int(free * 0.5 // per_member)))


def train(configs: list[dict], x: np.ndarray, y: np.ndarray, classes: int, seed: int, max_epochs: int,
          patience: int, device: torch.device, deadline: float | None = None, architecture: str = "mlp") -> list[Member]:
    """Train every configuration in `configs` (all with the same shared_part) on dense float32 `x`
    and `y` (class indices, or an already standardised target); one Member each, in order, in
    chunks the device's memory holds."""
    shared = shared_part(configs[0])
    if any(shared_part(c) != shared for c in configs):
        raise ValueError("a population's members must share everything but " + ", ".join(MEMBER_KEYS))
    at_once = len(configs)  # on a CPU all at once: memory is not what limits it there
    if device.type == "cuda":
        at_once = chunk_size(_template(architecture, x, classes, configs), torch.as_tensor(x[:2], device=device),
                             architecture, len(configs), int(shared["batch_size"]), device)
    return [member for start in range(0, len(configs), at_once)
            for member in _train_chunk(configs[start:start + at_once], x, y, classes, seed, max_epochs, patience,
                                       device, deadline, architecture)]


def _template(architecture: str, x: np.ndarray, classes: int, configs: list[dict]) -> nn.Module:
    from tuners.families.torch_net import build_network

    # With any member dropping units every member gets the dropout slots (rate 0 keeps all units),
    # so one module list fits all; with none, no masks are drawn at all.
    dropout = 0.5 if any(c["dropout"] > 0 for c in configs) else 0.0
    return build_network(architecture, tuple(int(d) for d in x.shape[1:]), classes or 1, dict(configs[0], dropout=dropout))


def _forward_of(architecture: str, template: nn.Module, x: np.ndarray, classes: int, configs: list[dict], seed: int):
    from tuners.families.torch_net import build_network

    if architecture == "rnn":
        shape = tuple(int(d) for d in x.shape[1:])
        return MemberLoop([build_network(architecture, shape, classes or 1, c).to(next(template.parameters()).device)
                           for c in configs], seed)
    return Vectorised(template, seed)


def _mixed_precision(device: torch.device, architecture: str):
    """bfloat16 autocast for the training forward pass where it is safe: on a CUDA device that
    supports it, for the dense and convolution layers of the MLP and CNN. bfloat16 keeps float32's
    exponent range, so no loss scaling is needed; weights, optimiser state, the loss and validation
    stay float32. Recurrent cells stay float32 (their state accumulates over hundreds of steps)."""
    if device.type == "cuda" and architecture in ("mlp", "cnn") and torch.cuda.is_bf16_supported():
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _shift(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Light augmentation for images: roll each batch by up to one pixel in each direction."""
    dy, dx = (int(v) for v in torch.randint(-1, 2, (2,), generator=generator))
    return torch.roll(batch, shifts=(dy, dx), dims=(2, 3))


@torch.no_grad()
def _clip_gradients(params: dict, max_norm: float) -> None:
    """nn.utils.clip_grad_norm_ for each member on its own gradients (recurrent nets)."""
    norms = torch.sqrt(sum((p.grad.flatten(1) ** 2).sum(1) for p in params.values()))
    factors = torch.clamp(max_norm / (norms + 1e-6), max=1.0)
    for p in params.values():
        p.grad.mul_(factors.view(-1, *[1] * (p.dim() - 1)))


def _train_chunk(configs: list[dict], x: np.ndarray, y: np.ndarray, classes: int, seed: int, max_epochs: int,
                 patience: int, device: torch.device, deadline: float | None, architecture: str,
                 predict_chunk: int = 4096) -> list[Member]:
    shared = shared_part(configs[0])
    size = len(configs)
    torch.manual_seed(seed)  # the initial weights, as for one configuration
    order = np.random.default_rng(seed).permutation(len(x))
    cut = max(1, int(len(x) * INNER_VALIDATION)) if len(x) >= 20 else 0
    valid, train_rows = order[:cut], order[cut:]
    x_all = torch.as_tensor(x, device=device)
    y_all = torch.as_tensor(y, dtype=torch.long if classes else torch.float32, device=device)
    train_index = torch.as_tensor(train_rows, device=device)
    template = _template(architecture, x, classes, configs).to(device)
    if hasattr(template, "fit_statistics"):  # the recurrent net's input scaling, from the training rows
        template.fit_statistics(x_all[train_index])
    net = _forward_of(architecture, template, x, classes, configs, seed)
    params, buffers = _stack(template, size, device)
    weights = [k for k, v in template.named_parameters() if k.rsplit(".", 1)[-1].startswith("weight") and v.dim() > 1]
    l1 = torch.tensor([c.get("l1", 0.0) for c in configs], device=device)
    l2 = torch.tensor([c["l2"] for c in configs], device=device)
    rates = torch.tensor([c["dropout"] for c in configs], device=device)
    optimiser = _Optimiser(shared["optimizer"], params, [c["learning_rate"] for c in configs],
                           [c.get("momentum", 0.0) for c in configs])
    names = list(template.state_dict().keys())
    precision = _mixed_precision(device, architecture)
    augment = shared.get("augment") == "shift" and x.ndim == 4
    clip = architecture == "rnn"  # back-propagation through time can explode the gradient

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
                total += _member_losses(net.evaluate(params, buffers, x_all[rows]), y_all[rows], classes) * len(rows)
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
    shuffles, shifts = torch.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)
    step, factor = 0, 1.0
    for epoch in range(1, max_epochs + 1):
        shuffled = train_index[torch.randperm(len(train_index), generator=shuffles).to(device)]
        totals = torch.zeros(size, device=device)
        first_bad = torch.zeros(size, device=device)  # each member's first non-finite batch loss (kept on the device)
        seen_bad = torch.zeros(size, dtype=torch.bool, device=device)
        for start in range(0, len(shuffled), batch):
            rows = shuffled[start:start + batch]
            if len(rows) < 2 and shared.get("batch_norm"):
                continue  # batch norm cannot normalise a single row
            step += 1
            inputs = _shift(x_all[rows], shifts) if augment else x_all[rows]
            with precision:
                outputs, stats = net.train_step(params, buffers, rates, inputs, step)
            losses = regularised(_member_losses(outputs.float(), y_all[rows], classes))
            losses.sum().backward()  # members are independent: each gets its own loss's gradient
            with torch.no_grad():
                net.after_step(buffers, stats, active)
                totals += losses.detach() * len(rows)
                bad = ~torch.isfinite(losses.detach()) & ~seen_bad
                first_bad, seen_bad = torch.where(bad, losses.detach(), first_bad), seen_bad | bad
            if clip:
                _clip_gradients(params, GRADIENT_CLIP_NORM)
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


def load_member(network: nn.Module, member: Member) -> None:
    """Put a member's weights into torch_net.build_network(its own config): the same modules in
    the same order, less dropout slots, which hold no weights."""
    network.load_state_dict(dict(zip(network.state_dict().keys(), member.state.values())))
