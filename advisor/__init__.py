"""advisor: which model, with which hyperparameters, and why."""

__version__ = "0.1.0"
