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


class DivergedError(RuntimeError):
    """The loss or the score stopped being a finite number: this configuration cannot train."""
