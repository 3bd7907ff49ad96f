"""Small statistics shared by the stages that compare two models on the same folds."""

from __future__ import annotations

import numpy as np


def paired_se(first, second) -> float:
    """The standard error of the mean of the per-fold differences (`first` - `second`): how far the
    gap between two models scored on the same folds moves with the folds; 0 with one fold."""
    differences = np.asarray(first, dtype=float) - np.asarray(second, dtype=float)
    return float(np.std(differences, ddof=1) / np.sqrt(len(differences))) if len(differences) > 1 else 0.0
