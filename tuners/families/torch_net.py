"""Neural networks in PyTorch behind the scikit-learn estimator interface: an MLP over feature
vectors, a CNN over images (N, channels, height, width) and an RNN over masked sequences (N, steps,
channels + 1). Every fit trains through population.py (a population of one, or many configurations
at once): early stopping there watches the validation loss with patience (seed 001: 'don't stop at
the first bump of valid loss, do so after a few more iterations') and keeps the best weights.
Tensors go to the device once, and batches are taken by index, not copied through a loader.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator
from torch import nn

from tuners.families.networks import ARCHITECTURES, build_cnn, build_mlp, build_network  # noqa: F401
from tuners.families.training import MAX_EPOCHS, PATIENCE, DivergedError, dense_float32 as _dense
PREDICT_CHUNK = 4096


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

    def fit(self, x, y):
        x, y = self._prepare(x, y)
        fit_population([self], x, y)  # a population of one: the path population trials take
        if self.error_ is not None:
            raise DivergedError(self.error_)
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
    """Fit TorchNets of one architecture that differ only in population.MEMBER_KEYS together, on
    features and a target `_prepare`d by the first; each ends fitted as if alone. A member whose
    loss diverged says why in `error_` (None when it trained)."""
    from tuners.families import population

    first = nets[0]
    members = population.train([n.config for n in nets], x, y, first.classes, first.seed, first.max_epochs,
                               first.patience, first._device(), first.deadline, first.architecture)
    for net, member in zip(nets, members):
        net.error_ = member.error
        for name in ("input_shape_", "y_mean_", "y_std_"):
            if hasattr(first, name):
                setattr(net, name, getattr(first, name))
        net.network_ = build_network(first.architecture, first.input_shape_, first.classes or 1, net.config)
        population.load_member(net.network_, member)
        net.network_.to(first._device())
        net.history_, net.best_epoch_, net.stopped_epoch_ = member.history, member.best_epoch, member.stopped_epoch
    return nets


def fit_pipelines(models, x, y) -> list[str | None]:
    """Fit pipelines of TorchNets whose configs differ only in POPULATION_KEYS as one population:
    the preprocessing (the same for all) is fitted once, the nets together (fit_population).
    Returns each member's error, None where it trained."""
    features = models[0].named_steps["features"]
    transformed = features.fit_transform(x, y)
    for model in models:
        model.steps[0] = ("features", features)
    nets = [model[-1] for model in models]
    fit_population(nets, *nets[0]._prepare(transformed, y))
    return [net.error_ for net in nets]
