"""Training rules every neural net shares, whichever library trains it (torch_net, keras_net), and
what the torch modules import instead of the family registry: they depend on this module only, so
base -> torch_net -> population never leads back to base."""

from __future__ import annotations

import numpy as np
import scipy.sparse

# Training rules every neural net shares, whichever library trains it (torch_net, keras_net):
# epochs at most, early-stopping patience (seed 001), the share of training rows held out to stop on,
# and the gradient-norm clip for recurrent nets (back-propagation through time can explode it).
MAX_EPOCHS = 100
PATIENCE = 10
INNER_VALIDATION = 0.15
GRADIENT_CLIP_NORM = 1.0
# The continuous hyperparameters in which the members of a population may differ (population.py);
# they share everything else (the architecture, batch size, optimiser and decay schedule).
POPULATION_KEYS = ("learning_rate", "momentum", "dropout", "l1", "l2")


def dense_float32(x) -> np.ndarray:
    """A feature matrix (sparse or not) as a dense float32 array, as the nets take it."""
    return np.asarray(x.toarray() if scipy.sparse.issparse(x) else x, dtype=np.float32)


def balanced_class_weights(y: np.ndarray, classes: int) -> np.ndarray:
    """Each class's inverse frequency, rows / (classes x its count), as scikit-learn's 'balanced'
    (whose compute_class_weight refuses a class missing from a fold's rows; here it counts as 1)."""
    counts = np.maximum(np.bincount(np.asarray(y), minlength=classes), 1).astype(np.float64)
    return len(y) / (classes * counts)


class DivergedError(RuntimeError):
    """The loss or the score stopped being a finite number: this configuration cannot train."""
