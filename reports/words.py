"""Plain words for the report: a tuned configuration as a sentence a colleague can read aloud."""

from __future__ import annotations

from typing import Any

NAMES = {
    "learning_rate": "learning rate", "batch_size": "batches of", "l1": "L1 penalty", "l2": "L2 penalty",
    "lr_decay": "learning-rate decay", "batch_norm": "batch normalisation", "max_depth": "trees of depth up to",
    "min_child_weight": "minimum child weight", "subsample": "row subsample", "colsample_bytree": "column subsample",
    "reg_lambda": "L2 penalty", "reg_alpha": "L1 penalty", "n_clusters": "clusters", "C": "inverse regularisation C",
    "alpha": "regularisation alpha", "kernel": "kernel size", "filters": "first-block filters", "blocks": "convolution blocks",
    "augment": "augmentation",
}
OPTIMISERS = {"sgd": "SGD", "adam": "Adam", "adagrad": "Adagrad"}


def _number(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def describe_config(config: dict[str, Any]) -> str:
    """E.g. 'a GRU cell, 1 layer of 64 units, one direction; Adam at learning rate 0.001; batches of 32; ...'."""
    config = dict(config)
    parts = []
    if "cell" in config:
        parts.append(f"{config.pop('cell').upper()} cells")
        if "bidirectional" in config:
            parts.append("reading both ways" if config.pop("bidirectional") else "reading forwards")
    if "layers" in config and "units" in config:
        layers = config.pop("layers")
        parts.append(f"{layers} layer{'s' if layers != 1 else ''} of {config.pop('units')} units")
    if "optimizer" in config:
        optimiser = OPTIMISERS.get(config.pop("optimizer"), "the optimiser")
        rate = config.pop("learning_rate", None)
        momentum = config.pop("momentum", None)
        text = f"{optimiser}" + (f" at learning rate {_number(rate)}" if rate is not None else "")
        if optimiser == "SGD" and momentum is not None:
            text += f" with momentum {_number(momentum)}"
        parts.append(text)
    for name, value in config.items():
        label = NAMES.get(name, name.replace("_", " "))
        parts.append(f"{label} {_number(value)}")
    return "; ".join(parts)
