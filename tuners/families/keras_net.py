"""The neural families as Keras 3 models behind the scikit-learn estimator interface: the same
MLP, CNN and RNN architectures, spaces and training rules as tuners/families/torch_net.py, for
the KerasTuner backend. Keras runs on TensorFlow by default or on PyTorch with KERAS_BACKEND=torch
(then TensorFlow is never imported).

Early stopping watches the validation loss with patience and keeps the best weights (seed 001:
'don't stop at the first bump of valid loss, do so after a few more iterations'). Keras is imported
only when a model is built or loaded, so the Ray backend never pays for it.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import random
import time
from typing import Callable

import numpy as np
from sklearn.base import BaseEstimator

from tuners.families.base import (
    GRADIENT_CLIP_NORM, INNER_VALIDATION, MAX_EPOCHS, PATIENCE, DivergedError, dense_float32 as _dense,
)
from tuners.families.training import balanced_class_weights

ACTIVATIONS = {"relu": "relu", "leaky_relu": "leaky_relu", "elu": "elu", "tanh": "tanh"}


def keras_backend_name() -> str:
    import keras

    return keras.backend.backend()


def _hidden(keras, x, units: int, config: dict, regularizer):
    x = keras.layers.Dense(units, kernel_regularizer=regularizer)(x)
    if config.get("batch_norm"):
        x = keras.layers.BatchNormalization()(x)
    return keras.layers.Activation(ACTIVATIONS[config["activation"]])(x)


def build_mlp(keras, input_shape, outputs: int, config: dict, regularizer):
    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Flatten()(inputs)
    for _ in range(int(config["layers"])):
        x = _hidden(keras, x, int(config["units"]), config, regularizer)
        if config["dropout"] > 0:
            x = keras.layers.Dropout(float(config["dropout"]))(x)
    return keras.Model(inputs, keras.layers.Dense(outputs, kernel_regularizer=regularizer)(x))


def build_cnn(keras, input_shape, outputs: int, config: dict, regularizer):
    """Images arrive channels first (N, C, H, W), as for torch; Keras's layers read channels last."""
    channels, height, width = input_shape
    inputs = keras.Input(shape=(height, width, channels))
    x = inputs
    if config.get("augment") == "shift":  # up to one pixel each way, as the torch CNN
        x = keras.layers.RandomTranslation(1 / height, 1 / width, fill_mode="constant", interpolation="nearest")(x)
    filters = int(config["filters"])
    for _ in range(int(config["blocks"])):
        x = keras.layers.Conv2D(filters, int(config["kernel"]), padding="same", kernel_regularizer=regularizer)(x)
        if config["batch_norm"]:
            x = keras.layers.BatchNormalization()(x)
        x = keras.layers.Activation(ACTIVATIONS[config["activation"]])(x)
        if min(height, width) >= 4:
            x = keras.layers.MaxPooling2D(2)(x)
            height, width = height // 2, width // 2
        filters *= 2
    x = _hidden(keras, keras.layers.Flatten()(x), int(config["units"]), dict(config, batch_norm=False), regularizer)
    if config["dropout"] > 0:
        x = keras.layers.Dropout(float(config["dropout"]))(x)
    return keras.Model(inputs, keras.layers.Dense(outputs, kernel_regularizer=regularizer)(x))


def build_rnn(keras, input_shape, outputs: int, config: dict, regularizer, mean=None, std=None):
    """Stacked LSTM or GRU over (N, steps, channels + 1): the last channel is the padding mask,
    turned into a Keras mask so padding never reaches the cell (see keras_layers.SeriesInput)."""
    from tuners.families.keras_layers import SeriesInput

    channels = int(input_shape[-1]) - 1
    inputs = keras.Input(shape=(None, int(input_shape[-1])))  # any number of steps: series differ in length
    x = SeriesInput(mean if mean is not None else [0.0] * channels, std if std is not None else [1.0] * channels)(inputs)
    cell = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[config["cell"]]
    layers, dropout = int(config["layers"]), float(config["dropout"])
    for index in range(layers):
        last = index == layers - 1
        recurrent = cell(int(config["units"]), return_sequences=not last, kernel_regularizer=regularizer)
        x = (keras.layers.Bidirectional(recurrent) if config["bidirectional"] else recurrent)(x)
        if dropout > 0:  # between stacked layers and before the head, as in the torch RNN
            x = keras.layers.Dropout(dropout)(x)
    return keras.Model(inputs, keras.layers.Dense(outputs, kernel_regularizer=regularizer)(x))


@dataclasses.dataclass(frozen=True)
class KerasArchitecture:
    """A Keras network a family trains, and what its training needs; the Keras twin of
    networks.Architecture (KerasTuner trains one configuration a trial, so no population fields)."""

    build: Callable  # (keras, input_shape, outputs, config, regularizer, **statistics) -> keras.Model
    table: bool = False  # trains on the family's preprocessed feature table; else on the arrays as given
    channels_last: bool = False  # images arrive (N, C, H, W) as for torch; Keras's layers read (N, H, W, C)
    clip_gradients: bool = False  # back-propagation through time can explode the gradient
    series_statistics: bool = False  # per-channel mean and spread of the training series, built into the model
    l1: bool = True  # searches an L1 penalty beside L2 (the CNN's space has none)


# A new Keras architecture is a builder and one entry here, under the name a family's
# `FamilyDef.architecture` gives (the KerasTuner backend's families: tuners/backends.py).
ARCHITECTURES = {
    "mlp": KerasArchitecture(build_mlp, table=True),
    "cnn": KerasArchitecture(build_cnn, channels_last=True, l1=False),
    "rnn": KerasArchitecture(build_rnn, clip_gradients=True, series_statistics=True),
}


def _seed_everything(keras, seed: int) -> None:
    """keras.utils.set_random_seed imports TensorFlow whenever it is installed, even on the torch
    backend; there, seed what Keras draws from (Python's random for initialisers and dropout seeds,
    NumPy, torch) directly, so TensorFlow stays unimported."""
    if keras.backend.backend() == "tensorflow":
        keras.utils.set_random_seed(seed)
        return
    random.seed(seed)
    np.random.seed(seed)
    if keras.backend.backend() == "torch":
        import torch

        torch.manual_seed(seed)


def _series_statistics(x: np.ndarray) -> tuple[list[float], list[float]]:
    """Per-channel mean and spread over the real (unpadded, present) steps of the training series."""
    values, mask = x[..., :-1], (x[..., -1:] > 0) & ~np.isnan(x[..., :-1])
    count = np.maximum(mask.sum(axis=(0, 1)), 1)
    mean = np.where(mask, values, 0.0).sum(axis=(0, 1)) / count
    spread = np.sqrt((np.where(mask, values - mean, 0.0) ** 2).sum(axis=(0, 1)) / count)
    return mean.tolist(), np.where(spread > 0, spread, 1.0).tolist()


def _deadline_callback(keras, deadline: float, clock=time.monotonic):
    """A Keras callback that ends training at a deadline on `clock` (the tuning budget, the run's end)."""

    class Deadline(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if clock() >= deadline:
                self.model.stop_training = True

    return Deadline()


def _balanced_weights(y: np.ndarray, classes: int) -> dict[int, float]:
    """Keras's class_weight: each class's inverse frequency, as the torch nets weight their loss."""
    return {c: float(w) for c, w in enumerate(balanced_class_weights(y, classes))}


class KerasNet(BaseEstimator):
    """`config` is a point of the family's space, plus two run controls a tuner may set:
    `_epochs` (Hyperband's epoch budget for a trial) caps the epochs below `max_epochs`, and
    `_deadline` (a time.monotonic() value, the end of the tuning budget) ends training early.
    `deadline` (time.time(), as the torch and XGBoost families take it) does too: the finish's refits."""

    def __init__(self, config: dict | None = None, classes: int = 0, seed: int = 0, max_epochs: int = MAX_EPOCHS,
                 patience: int = PATIENCE, architecture: str = "mlp", deadline: float | None = None):
        self.config = config
        self.deadline = deadline
        self.classes = classes
        self.seed = seed
        self.max_epochs = max_epochs
        self.patience = patience
        self.architecture = architecture

    def _optimizer(self, keras, steps_per_epoch: int, epochs: int):
        c = self.config
        rate = c["learning_rate"]
        if c["lr_decay"] == "linear":  # to a tenth of the start over the run, as torch's LinearLR
            rate = keras.optimizers.schedules.PolynomialDecay(rate, steps_per_epoch * epochs, rate * 0.1, power=1.0)
        elif c["lr_decay"] == "exponential":  # x0.95 per epoch
            rate = keras.optimizers.schedules.ExponentialDecay(rate, steps_per_epoch, 0.95, staircase=True)
        # Recurrent nets clip the gradient norm: back-propagation through time can explode it.
        clip = {"global_clipnorm": GRADIENT_CLIP_NORM} if ARCHITECTURES[self.architecture].clip_gradients else {}
        if c["optimizer"] == "sgd":
            return keras.optimizers.SGD(rate, momentum=c["momentum"], **clip)
        if c["optimizer"] == "adam":  # betas and epsilon at their defaults (seed 003)
            return keras.optimizers.Adam(rate, **clip)
        return keras.optimizers.Adagrad(rate, **clip)

    def _inputs(self, x: np.ndarray) -> np.ndarray:
        x = _dense(x)
        return np.ascontiguousarray(x.transpose(0, 2, 3, 1)) if ARCHITECTURES[self.architecture].channels_last else x

    def fit(self, x, y):
        import keras

        # TensorFlow warns on its Python logger when predict() retraces for a new batch shape; harmless here.
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
        _seed_everything(keras, self.seed)
        x = _dense(x)
        y = np.asarray(y)
        if not self.classes:  # standardise the target so one learning-rate range fits every scale
            self.y_mean_, self.y_std_ = float(y.mean()), float(y.std() or 1.0)
            y = (y - self.y_mean_) / self.y_std_
        y = y.astype(np.int64 if self.classes else np.float32)
        order = np.random.default_rng(self.seed).permutation(len(x))
        cut = max(1, int(len(x) * INNER_VALIDATION)) if len(x) >= 20 else 0
        valid, train = order[:cut], order[cut:]
        self.input_shape_ = tuple(int(d) for d in x.shape[1:])
        keras.backend.clear_session()  # one model at a time: no graph growth across trials
        reg = keras.regularizers.L1L2(l1=float(self.config.get("l1", 0.0)), l2=float(self.config["l2"]))
        architecture = ARCHITECTURES[self.architecture]
        extra = dict(zip(("mean", "std"), _series_statistics(x[train]))) if architecture.series_statistics else {}
        self.model_ = architecture.build(keras, self.input_shape_, self.classes or 1, self.config, reg, **extra)
        epochs = int(min(self.max_epochs, self.config.get("_epochs") or self.max_epochs))
        batch = int(min(self.config["batch_size"], max(1, len(train))))
        steps = max(1, math.ceil(len(train) / batch))
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True) if self.classes else keras.losses.MeanSquaredError()
        self.model_.compile(optimizer=self._optimizer(keras, steps, epochs), loss=loss)
        inputs = self._inputs(x)
        monitor = "val_loss" if cut else "loss"
        callbacks = [keras.callbacks.EarlyStopping(monitor=monitor, patience=self.patience, restore_best_weights=True,
                                                   min_delta=1e-7), keras.callbacks.TerminateOnNaN()]
        if self.config.get("_deadline") is not None:
            callbacks.append(_deadline_callback(keras, self.config["_deadline"]))
        if self.deadline is not None:
            callbacks.append(_deadline_callback(keras, self.deadline, clock=time.time))
        history = self.model_.fit(
            inputs[train], y[train], batch_size=batch, epochs=epochs, verbose=0, shuffle=True, callbacks=callbacks,
            class_weight=_balanced_weights(y[train], self.classes) if self.config.get("class_weight") == "balanced" else None,
            validation_data=(inputs[valid], y[valid]) if cut else None,
        ).history
        train_losses = history.get("loss", [])
        valid_losses = history.get(monitor, [])
        if not train_losses or not all(math.isfinite(v) for v in train_losses + valid_losses):
            raise DivergedError(f"training loss became {train_losses[-1] if train_losses else 'nan'} "
                                f"at epoch {len(train_losses)}")
        self.history_ = [(i + 1, float(t), float(v)) for i, (t, v) in enumerate(zip(train_losses, valid_losses))]
        self.best_epoch_ = min(self.history_, key=lambda h: h[2])[0]
        self.stopped_epoch_ = self.history_[-1][0]
        return self

    def _forward(self, x) -> np.ndarray:
        return np.asarray(self.model_.predict(self._inputs(x), verbose=0, batch_size=1024), dtype=np.float64)

    def predict(self, x):
        outputs = self._forward(x)
        if self.classes:
            return outputs.argmax(axis=1)
        return outputs[:, 0] * self.y_std_ + self.y_mean_

    def predict_proba(self, x):
        logits = self._forward(x)
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)


def builder(architecture: str):
    """A family's `build(config, problem)` for the Keras network of this architecture."""
    from tuners.families.base import array_pipeline, pipeline

    entry = ARCHITECTURES[architecture]

    def build(config: dict, problem):
        net = KerasNet(dict(config) if entry.l1 else dict(config, l1=0.0), classes=len(problem.classes),
                       seed=problem.seed, architecture=architecture)
        return pipeline(problem, net) if entry.table else array_pipeline(net)

    return build


def as_keras(definition):
    """The family as the KerasTuner backend trains it: the same space and defaults, a Keras network."""
    return dataclasses.replace(definition, build=builder(definition.architecture), model_format="keras")
