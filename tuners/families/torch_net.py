"""Neural networks in PyTorch behind the scikit-learn estimator interface: an MLP over feature
vectors, a CNN over images (N, channels, height, width) and an RNN over masked sequences (N, steps,
channels + 1), trained by one shared loop.

Early stopping watches the validation loss with patience (seed 001: 'don't stop at the first bump
of valid loss, do so after a few more iterations') and keeps the best weights. Tensors go to the
device once, and batches are taken by index, not copied batch by batch through a loader.
"""

from __future__ import annotations

import contextlib
import math
import time

import numpy as np
import torch
from sklearn.base import BaseEstimator
from torch import nn

from tuners.families.base import (
    GRADIENT_CLIP_NORM, INNER_VALIDATION, MAX_EPOCHS, PATIENCE, DivergedError, dense_float32 as _dense,
)
from tuners.families.recurrent_net import build_rnn
PREDICT_CHUNK = 4096
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
        layers.append(nn.Conv2d(channels, filters, int(config["kernel"]), padding="same"))
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


ARCHITECTURES = {"mlp": build_mlp, "cnn": build_cnn, "rnn": build_rnn}


def build_network(architecture: str, input_shape: tuple[int, ...], outputs: int, config: dict) -> nn.Module:
    return ARCHITECTURES[architecture](tuple(input_shape), outputs, config)


def _shift(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Light augmentation for images: roll each batch by up to one pixel in each direction."""
    dy, dx = (int(v) for v in torch.randint(-1, 2, (2,), generator=generator))
    return torch.roll(batch, shifts=(dy, dx), dims=(2, 3))


def _mixed_precision(device: torch.device, architecture: str):
    """bfloat16 autocast for the forward pass where it is safe: on a CUDA device that supports it,
    for the convolution and dense layers of the MLP and CNN. bfloat16 keeps float32's exponent range,
    so no loss scaling is needed; weights, optimiser state, the loss and validation stay float32.
    Recurrent cells stay float32 (their state accumulates over hundreds of steps)."""
    if device.type == "cuda" and architecture in ("mlp", "cnn") and torch.cuda.is_bf16_supported():
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


class TorchNet(BaseEstimator):
    def __init__(self, config: dict | None = None, classes: int = 0, seed: int = 0, max_epochs: int = MAX_EPOCHS,
                 patience: int = PATIENCE, device: str | None = None, architecture: str = "mlp",
                 deadline: float | None = None):
        self.architecture = architecture
        self.deadline = deadline  # time.time() after which no new epoch starts: a tuning stage's end
        self.config = config
        self.classes = classes
        self.seed = seed
        self.max_epochs = max_epochs
        self.patience = patience
        self.device = device

    def _optimizer(self, parameters):
        c = self.config
        if c["optimizer"] == "sgd":
            return torch.optim.SGD(parameters, lr=c["learning_rate"], momentum=c["momentum"])
        if c["optimizer"] == "adam":  # betas and epsilon at their defaults (seed 003)
            return torch.optim.Adam(parameters, lr=c["learning_rate"])
        return torch.optim.Adagrad(parameters, lr=c["learning_rate"])

    def _scheduler(self, optimizer):
        decay = self.config["lr_decay"]
        if decay == "linear":
            return torch.optim.lr_scheduler.LinearLR(optimizer, 1.0, 0.1, total_iters=self.max_epochs)
        if decay == "exponential":
            return torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.95)
        return None

    def _loss(self, network, outputs, target):
        loss = nn.functional.cross_entropy(outputs, target) if self.classes else nn.functional.mse_loss(outputs[:, 0], target)
        # Weight matrices only, not biases: "weight" in a Linear/Conv, "weight_ih_l0" in an LSTM/GRU.
        weights = [p for name, p in network.named_parameters() if name.rsplit(".", 1)[-1].startswith("weight") and p.dim() > 1]
        if self.config.get("l1", 0.0) > 0:
            loss = loss + self.config["l1"] * sum(w.abs().sum() for w in weights)
        if self.config["l2"] > 0:
            loss = loss + self.config["l2"] * sum((w * w).sum() for w in weights)
        return loss

    def fit(self, x, y):
        x, y = self._prepare(x, y)
        if self.architecture == "mlp":  # a population of one: the path population trials take
            fit_population([self], x, y)
            if self.error_ is not None:
                raise DivergedError(self.error_)
            return self
        torch.manual_seed(self.seed)
        generator = np.random.default_rng(self.seed)
        order = generator.permutation(len(x))
        cut = max(1, int(len(x) * INNER_VALIDATION)) if len(x) >= 20 else 0
        valid, train = order[:cut], order[cut:]
        device = self._device()
        target_type = torch.long if self.classes else torch.float32
        x_all = torch.as_tensor(x, device=device)  # once, not batch by batch
        y_all = torch.as_tensor(y, dtype=target_type, device=device)
        self.network_ = build_network(self.architecture, self.input_shape_, self.classes or 1, self.config).to(device)
        if hasattr(self.network_, "fit_statistics"):
            self.network_.fit_statistics(x_all[torch.as_tensor(train, device=device)])
        clip = self.architecture == "rnn"
        mixed_precision = _mixed_precision(device, self.architecture)
        augment = self.config.get("augment") == "shift" and x.ndim == 4
        shifts = torch.Generator().manual_seed(self.seed)
        optimizer = self._optimizer(self.network_.parameters())
        scheduler = self._scheduler(optimizer)
        batch = int(min(self.config["batch_size"], max(1, len(train))))
        train_index = torch.as_tensor(train, device=device)
        best, best_state, waited = math.inf, None, 0
        self.history_ = []
        for epoch in range(1, self.max_epochs + 1):
            self.network_.train()
            shuffled = train_index[torch.randperm(len(train_index), device=device)]
            total = 0.0
            for start in range(0, len(shuffled), batch):
                rows = shuffled[start:start + batch]
                if len(rows) < 2 and self.config.get("batch_norm"):
                    continue  # batch norm cannot normalise a single row
                optimizer.zero_grad()
                inputs = _shift(x_all[rows], shifts) if augment else x_all[rows]
                with mixed_precision:
                    outputs = self.network_(inputs)
                loss = self._loss(self.network_, outputs.float(), y_all[rows])
                if not torch.isfinite(loss):
                    raise DivergedError(f"training loss became {loss.item()} at epoch {epoch}")
                loss.backward()
                if clip:
                    nn.utils.clip_grad_norm_(self.network_.parameters(), GRADIENT_CLIP_NORM)
                optimizer.step()
                total += loss.item() * len(rows)
            if scheduler is not None:
                scheduler.step()
            train_loss = total / max(1, len(train))
            valid_loss = self._validation_loss(x_all, y_all, valid) if cut else train_loss
            if not math.isfinite(valid_loss):
                raise DivergedError(f"validation loss became {valid_loss} at epoch {epoch}")
            self.history_.append((epoch, train_loss, valid_loss))
            if valid_loss < best - 1e-7:
                best, waited = valid_loss, 0
                best_state = {k: v.detach().clone() for k, v in self.network_.state_dict().items()}
            else:
                waited += 1
                if waited >= self.patience:
                    break
            if self.deadline is not None and time.time() >= self.deadline:
                break  # the stage's budget is ending: keep the best epoch so far, so the trial reports a score
        if best_state is not None:
            self.network_.load_state_dict(best_state)
        self.best_epoch_ = min(self.history_, key=lambda h: h[2])[0]
        self.stopped_epoch_ = self.history_[-1][0]
        return self

    def _prepare(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Dense float32 features; for regression the target standardised, so one learning-rate range fits every scale."""
        x, y = _dense(x), np.asarray(y)
        self.input_shape_ = tuple(int(d) for d in x.shape[1:])
        if not self.classes:
            self.y_mean_, self.y_std_ = float(y.mean()), float(y.std() or 1.0)
            y = (y - self.y_mean_) / self.y_std_
        return x, y

    def _device(self) -> torch.device:
        # A trial given a GPU by Ray sees it as cuda:0; one given none has CUDA_VISIBLE_DEVICES empty.
        return torch.device(self.device or ("cuda" if torch.cuda.is_available() else "cpu"))

    def _validation_loss(self, x_all, y_all, valid) -> float:
        self.network_.eval()
        with torch.no_grad():
            rows = torch.as_tensor(valid, device=x_all.device)
            outputs = self.network_(x_all[rows])
            if self.classes:
                return float(nn.functional.cross_entropy(outputs, y_all[rows]))
            return float(nn.functional.mse_loss(outputs[:, 0], y_all[rows]))

    def _forward(self, x) -> torch.Tensor:
        self.network_.eval()
        device = next(self.network_.parameters()).device
        x = _dense(x)
        with torch.no_grad():  # in chunks, so a large file does not need all activations at once
            return torch.cat([self.network_(torch.as_tensor(x[i:i + PREDICT_CHUNK], device=device)).cpu()
                              for i in range(0, max(1, len(x)), PREDICT_CHUNK)])

    def predict(self, x):
        outputs = self._forward(x)
        if self.classes:
            return outputs.argmax(dim=1).numpy()
        return outputs[:, 0].numpy() * self.y_std_ + self.y_mean_

    def predict_proba(self, x):
        return torch.softmax(self._forward(x), dim=1).numpy()


def fit_population(nets: list[TorchNet], x: np.ndarray, y: np.ndarray) -> list[TorchNet]:
    """Fit MLP TorchNets that differ only in population.MEMBER_KEYS together, on features and a
    target `_prepare`d by the first; each ends fitted as if alone. A member whose loss diverged
    says why in `error_` (None when it trained)."""
    from tuners.families import population

    first = nets[0]
    members = population.train([n.config for n in nets], x, y, first.classes, first.seed, first.max_epochs,
                               first.patience, first._device(), first.deadline)
    for net, member in zip(nets, members):
        net.error_ = member.error
        for name in ("input_shape_", "y_mean_", "y_std_"):
            if hasattr(first, name):
                setattr(net, name, getattr(first, name))
        net.network_ = build_network("mlp", first.input_shape_, first.classes or 1, net.config)
        population.load_member(net.network_, member)
        net.network_.to(first._device())
        net.history_, net.best_epoch_, net.stopped_epoch_ = member.history, member.best_epoch, member.stopped_epoch
    return nets
