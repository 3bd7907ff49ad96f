"""The training losses of a population's members (population.py): cross-entropy or squared error
per member against the shared target, optionally weighted by class (what balanced accuracy, the
metric on imbalanced classes, rewards: tuners/families/base.class_weighting)."""

from __future__ import annotations

import torch

from tuners.families.training import balanced_class_weights


def member_losses(outputs: torch.Tensor, target: torch.Tensor, classes: int,
                   class_weights: torch.Tensor | None = None) -> torch.Tensor:
    """Mean loss of each member's outputs (members, rows, outputs) against the shared target; with
    class weights, each row's loss weighted by its class's (torch's cross_entropy(weight=) mean)."""
    sums, total = member_loss_sums(outputs, target, classes, class_weights)
    return sums / total


def member_loss_sums(outputs: torch.Tensor, target: torch.Tensor, classes: int,
                      class_weights: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | int]:
    """(each member's summed loss, the rows' total weight): chunks of rows add up to their mean."""
    members, rows = outputs.shape[:2]
    if not classes:
        return ((outputs[..., 0] - target) ** 2).sum(1), rows
    flat = torch.nn.functional.cross_entropy(outputs.reshape(members * rows, -1), target.repeat(members),
                                             reduction="none").view(members, rows)
    if class_weights is None:
        return flat.sum(1), rows
    weights = class_weights[target]
    return (flat * weights).sum(1), weights.sum()


def balanced_weights(y: torch.Tensor, classes: int) -> torch.Tensor:
    """training.balanced_class_weights as a float32 tensor on the target's device."""
    weights = balanced_class_weights(y.detach().cpu().numpy(), classes)
    return torch.as_tensor(weights, dtype=torch.float32, device=y.device)
