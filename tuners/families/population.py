"""Population training: many configurations of a neural family that share an architecture,
trained at once.

Small models waste a big device: one configuration's batch barely occupies it. Members of a
population share the architecture (layers, units, filters, cell...), batch size, optimiser and
decay schedule, and differ in the continuous hyperparameters (MEMBER_KEYS: learning rate, momentum,
dropout, L1, L2). Their parameters are stacked along a leading member axis and one forward pass
(functional_nets.py: vectorised with `torch.func.vmap` for the MLP and CNN, a loop over members
for the RNN) trains them all. Each member keeps its own optimiser state, learning-rate schedule,
early stopping (patience, seed 001) and best weights; a member whose loss diverges fails alone.

The architectures are networks.py's (one definition). Randomness is per member and does not depend
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

from tuners.families.networks import ARCHITECTURES, build_network
from tuners.families.training import GRADIENT_CLIP_NORM, INNER_VALIDATION, POPULATION_KEYS as MEMBER_KEYS
from tuners.families.functional_nets import MemberLoop, Vectorised
from tuners.families.losses import balanced_weights, member_loss_sums, member_losses
# torch.optim's defaults; Adam keeps its betas at their defaults whatever the momentum (seed 003)
ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON, ADAGRAD_EPSILON = 0.9, 0.999, 1e-8, 1e-10
LINEAR_DECAY_END, EXPONENTIAL_DECAY = 0.1, 0.95  # as LinearLR(1.0 -> 0.1) and ExponentialLR(0.95) give them


def shared_part(config: dict) -> dict:
    """What members of one population must have in common."""
    return {k: v for k, v in config.items() if k not in MEMBER_KEYS}


@dataclasses.dataclass
class Member:
    """One trained member: weights for networks.build_network(its config), its curve, or why it failed."""

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
    per_row = sum(activations) / 2 * _architecture(architecture).activation_factor
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


def _architecture(name: str):
    return ARCHITECTURES[name]


def _template(architecture: str, x: np.ndarray, classes: int, configs: list[dict]) -> nn.Module:
    # With any member dropping units every member gets the dropout slots (rate 0 keeps all units),
    # so one module list fits all; with none, no masks are drawn at all.
    dropout = 0.5 if any(c["dropout"] > 0 for c in configs) else 0.0
    return build_network(architecture, tuple(int(d) for d in x.shape[1:]), classes or 1, dict(configs[0], dropout=dropout))


def _forward_of(architecture: str, template: nn.Module, x: np.ndarray, classes: int, configs: list[dict], seed: int):
    if not _architecture(architecture).vectorised:
        shape = tuple(int(d) for d in x.shape[1:])
        return MemberLoop([build_network(architecture, shape, classes or 1, c).to(next(template.parameters()).device)
                           for c in configs], seed)
    return Vectorised(template, seed)


def _mixed_precision(device: torch.device, architecture: str):
    """bfloat16 autocast for the training forward pass where it is safe: on a CUDA device that
    supports it, for the dense and convolution layers of the MLP and CNN. bfloat16 keeps float32's
    exponent range, so no loss scaling is needed; weights, optimiser state, the loss and validation
    stay float32. Recurrent cells stay float32 (their state accumulates over hundreds of steps)."""
    if device.type == "cuda" and _architecture(architecture).mixed_precision and torch.cuda.is_bf16_supported():
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


@dataclasses.dataclass
class _Chunk:
    """What one chunk of members trains with: the data on the device, the stacked parameters and
    buffers, the forward pass, the per-member optimiser and regularisation."""

    net: object
    params: dict
    buffers: dict
    optimiser: _Optimiser
    x_all: torch.Tensor
    y_all: torch.Tensor
    train_index: torch.Tensor
    valid: np.ndarray
    classes: int
    class_weights: torch.Tensor | None  # per class, when the config weights classes ("class_weight": "balanced")
    weights: list[str]  # the parameters L1/L2 apply to
    l1: torch.Tensor
    l2: torch.Tensor
    rates: torch.Tensor  # dropout per member
    names: list[str]  # the template's state-dict keys, in order
    shared: dict
    precision: object
    augment: bool
    clip: bool
    batch: int
    predict_chunk: int

    @property
    def size(self) -> int:
        return len(self.rates)


def _setup(configs: list[dict], x: np.ndarray, y: np.ndarray, classes: int, seed: int, device: torch.device,
           architecture: str, predict_chunk: int) -> _Chunk:
    shared = shared_part(configs[0])
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
    params, buffers = _stack(template, len(configs), device)
    return _Chunk(
        net=net, params=params, buffers=buffers,
        optimiser=_Optimiser(shared["optimizer"], params, [c["learning_rate"] for c in configs],
                             [c.get("momentum", 0.0) for c in configs]),
        x_all=x_all, y_all=y_all, train_index=train_index, valid=valid, classes=classes,
        class_weights=balanced_weights(y_all[train_index], classes)
        if classes and shared.get("class_weight") == "balanced" else None,
        weights=[k for k, v in template.named_parameters() if k.rsplit(".", 1)[-1].startswith("weight") and v.dim() > 1],
        l1=torch.tensor([c.get("l1", 0.0) for c in configs], device=device),
        l2=torch.tensor([c["l2"] for c in configs], device=device),
        rates=torch.tensor([c["dropout"] for c in configs], device=device),
        names=list(template.state_dict().keys()), shared=shared, precision=_mixed_precision(device, architecture),
        augment=shared.get("augment") == "shift" and x.ndim == 4,
        clip=_architecture(architecture).clip_gradients,
        batch=int(min(shared["batch_size"], max(1, len(train_rows)))), predict_chunk=predict_chunk)


def _regularised(chunk: _Chunk, losses: torch.Tensor) -> torch.Tensor:
    for name in chunk.weights:
        flat = chunk.params[name].flatten(1)
        losses = losses + chunk.l1 * flat.abs().sum(1) + chunk.l2 * (flat * flat).sum(1)
    return losses


def _validation_losses(chunk: _Chunk) -> torch.Tensor:
    with torch.no_grad():  # in chunks: members x rows x units must fit the device
        total, seen = torch.zeros(chunk.size, device=chunk.x_all.device), 0
        for start in range(0, len(chunk.valid), chunk.predict_chunk):
            rows = torch.as_tensor(chunk.valid[start:start + chunk.predict_chunk], device=chunk.x_all.device)
            outputs = chunk.net.evaluate(chunk.params, chunk.buffers, chunk.x_all[rows])
            sums, weight = member_loss_sums(outputs, chunk.y_all[rows], chunk.classes, chunk.class_weights)
            total, seen = total + sums, seen + weight
        return total / seen


def _epoch(chunk: _Chunk, shuffled: torch.Tensor, step: int, factor: float, shifts: torch.Generator,
           active: torch.Tensor) -> tuple[list[float], int]:
    """One pass over the shuffled training rows: each member's mean training loss (its first
    non-finite batch loss, if any), and the step count after it."""
    device = chunk.x_all.device
    totals = torch.zeros(chunk.size, device=device)
    first_bad = torch.zeros(chunk.size, device=device)  # each member's first non-finite batch loss (kept on the device)
    seen_bad = torch.zeros(chunk.size, dtype=torch.bool, device=device)
    for start in range(0, len(shuffled), chunk.batch):
        rows = shuffled[start:start + chunk.batch]
        if len(rows) < 2 and chunk.shared.get("batch_norm"):
            continue  # batch norm cannot normalise a single row
        step += 1
        inputs = _shift(chunk.x_all[rows], shifts) if chunk.augment else chunk.x_all[rows]
        with chunk.precision:
            outputs, stats = chunk.net.train_step(chunk.params, chunk.buffers, chunk.rates, inputs, step)
        losses = _regularised(chunk, member_losses(outputs.float(), chunk.y_all[rows], chunk.classes, chunk.class_weights))
        losses.sum().backward()  # members are independent: each gets its own loss's gradient
        with torch.no_grad():
            chunk.net.after_step(chunk.buffers, stats, active)
            totals += losses.detach() * len(rows)
            bad = ~torch.isfinite(losses.detach()) & ~seen_bad
            first_bad, seen_bad = torch.where(bad, losses.detach(), first_bad), seen_bad | bad
        if chunk.clip:
            _clip_gradients(chunk.params, GRADIENT_CLIP_NORM)
        chunk.optimiser.step(chunk.params, factor, active)
    return torch.where(seen_bad, first_bad, totals / max(1, len(chunk.train_index))).tolist(), step


class _Stopping:
    """Each member's early stopping (patience, seed 001), failure, curve and best weights."""

    def __init__(self, chunk: _Chunk, patience: int):
        size = chunk.size
        self.patience = patience
        self.running = [True] * size  # still training (not stopped early, not failed)
        self.errors: list[str | None] = [None] * size
        self.best = [math.inf] * size
        self.waited = [0] * size
        self.histories: list[list[tuple[int, float, float]]] = [[] for _ in range(size)]
        self.best_params = {k: v.detach().clone() for k, v in chunk.params.items()}
        self.best_buffers = {k: v.clone() for k, v in chunk.buffers.items()}

    def update(self, epoch: int, train_losses: list[float], valid_losses: list[float], chunk: _Chunk) -> None:
        improved = []
        for i, running in enumerate(self.running):
            if not running:
                continue
            for what, value in (("training", train_losses[i]), ("validation", valid_losses[i])):
                if self.errors[i] is None and not math.isfinite(value):
                    self.errors[i] = f"{what} loss became {value} at epoch {epoch}"
            if self.errors[i] is not None:
                self.running[i] = False
                continue
            self.histories[i].append((epoch, train_losses[i], valid_losses[i]))
            if valid_losses[i] < self.best[i] - 1e-7:
                self.best[i], self.waited[i] = valid_losses[i], 0
                improved.append(i)
            else:
                self.waited[i] += 1
                if self.waited[i] >= self.patience:
                    self.running[i] = False  # this member stops; the others go on
        if improved:
            self._keep(improved, chunk)

    def _keep(self, improved: list[int], chunk: _Chunk) -> None:
        keep_mask = torch.zeros(chunk.size, dtype=torch.bool, device=chunk.x_all.device)
        keep_mask[improved] = True
        with torch.no_grad():
            for store, source in ((self.best_params, chunk.params), (self.best_buffers, chunk.buffers)):
                for k in store:
                    mask = keep_mask.view(-1, *[1] * (source[k].dim() - 1))
                    store[k] = torch.where(mask, source[k].detach(), store[k])

    def members(self, names: list[str]) -> list[Member]:
        kept = {**self.best_params, **self.best_buffers}
        return [Member(state={k: kept[k][i].detach().cpu() for k in names}, history=history,
                       best_epoch=min(history, key=lambda h: h[2])[0] if history else 0,
                       stopped_epoch=history[-1][0] if history else 0, error=self.errors[i])
                for i, history in enumerate(self.histories)]


def _train_chunk(configs: list[dict], x: np.ndarray, y: np.ndarray, classes: int, seed: int, max_epochs: int,
                 patience: int, device: torch.device, deadline: float | None, architecture: str,
                 predict_chunk: int = 4096) -> list[Member]:
    chunk = _setup(configs, x, y, classes, seed, device, architecture, predict_chunk)
    stopping = _Stopping(chunk, patience)
    active = torch.tensor(stopping.running, device=device)
    shuffles, shifts = torch.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)
    step, factor = 0, 1.0
    for epoch in range(1, max_epochs + 1):
        shuffled = chunk.train_index[torch.randperm(len(chunk.train_index), generator=shuffles).to(device)]
        train_losses, step = _epoch(chunk, shuffled, step, factor, shifts, active)
        factor = _schedule(chunk.shared["lr_decay"], epoch, max_epochs)
        valid_losses = _validation_losses(chunk).tolist() if len(chunk.valid) else train_losses
        stopping.update(epoch, train_losses, valid_losses, chunk)
        active = torch.tensor(stopping.running, device=device)  # one copy per epoch, not one per member
        if not any(stopping.running) or (deadline is not None and time.time() >= deadline):
            break
    return stopping.members(chunk.names)


def load_member(network: nn.Module, member: Member) -> None:
    """Put a member's weights into networks.build_network(its own config): the same modules in
    the same order, less dropout slots, which hold no weights."""
    network.load_state_dict(dict(zip(network.state_dict().keys(), member.state.values())))
