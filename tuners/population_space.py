"""Population trials, on the search side: one Ray Tune trial carries several configurations that
share an architecture and differ in the continuous hyperparameters (tuners/families/population.py
trains them together). Imports no torch: the driver only reshapes spaces and configs.

A population's space holds each shared parameter once and each member parameter once per member
slot, `name@k`; the searcher samples all of them, so every member is a configuration drawn from
the family's own space. Results come back one per member, and are recorded as separate trials.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tuners.space import Param, Space

SLOT = "@"


def slots(gpus_per_trial: float, asked: int | None, defaults: tuple[int, int]) -> int:
    """Member slots per trial: what the user asked for (1 turns populations off), else the family's
    default (without a GPU, with one: FamilyDef.population_slots)."""
    if asked is not None:
        return max(1, asked)
    return defaults[1] if gpus_per_trial > 0 else defaults[0]


def expand(space: Space, member_keys: tuple[str, ...], size: int, seed: int) -> Space:
    """The population space of `size` slots, and its starting point: the family's start in slot 0
    and the other slots drawn from the space (seeded), so the start is still tried first."""
    keys = [k for k in member_keys if k in space.params]
    params: dict[str, Param] = {k: p for k, p in space.params.items() if k not in keys}
    for slot in range(size):
        params.update({f"{k}{SLOT}{slot}": space.params[k] for k in keys})
    rng = np.random.default_rng(seed)
    start = {k: v for k, v in space.start.items() if k not in keys}
    for slot in range(size):
        start.update({f"{k}{SLOT}{slot}": space.start[k] if slot == 0 else space.params[k].domain.sample(rng) for k in keys})
    return Space(params, start=start)


def with_first(expanded: Space, config: dict[str, Any]) -> dict[str, Any]:
    """A population point whose slot 0 is `config` (its shared values too), the other slots as in
    the expanded space's start: how a fixed configuration (an anchor) enters a population stage."""
    point = dict(expanded.start)
    for key in point:
        name = key.rsplit(SLOT, 1)[0] if key.endswith(f"{SLOT}0") or SLOT not in key else None
        if name is not None and name in config:
            point[key] = config[name]
    return point


def anchor_points(expanded: Space, configs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Population points that hold `configs` (the anchors) in their first slots: configurations
    that agree on the shared parameters share a point, slot by slot, so two anchors of a family
    whose every parameter is a member parameter cost one trial, not two (and count as two of
    --trials' configurations); one that differs in a shared parameter (an MLP's width) takes a point
    of its own, built by with_first."""
    size = 1 + max((int(k.rsplit(SLOT, 1)[1]) for k in expanded.params if SLOT in k), default=0)
    points: list[tuple[dict[str, Any], int]] = []
    for config in configs:
        shared = {k: config.get(k) for k in expanded.params if SLOT not in k}
        index = next((i for i, (point, used) in enumerate(points)
                      if used < size and all(point[k] == v for k, v in shared.items())), None)
        if index is None:
            points.append((with_first(expanded, config), 1))
            continue
        point, used = points[index]
        point.update({f"{k}{SLOT}{used}": config[k] for k in config if f"{k}{SLOT}{used}" in point})
        points[index] = (point, used + 1)
    return [point for point, _ in points]


def members(config: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The member configurations of a population config (slot order); None for a plain config."""
    slotted = [k for k in config if SLOT in k]
    if not slotted:
        return None
    shared = {k: v for k, v in config.items() if SLOT not in k}
    count = 1 + max(int(k.rsplit(SLOT, 1)[1]) for k in slotted)
    found = [dict(shared) for _ in range(count)]
    for key in slotted:
        name, slot = key.rsplit(SLOT, 1)
        found[int(slot)][name] = config[key]
    return found


def trials_for(configurations: int, size: int) -> int:
    """Ray trials that hold `configurations` configurations in populations of `size`."""
    return max(1, math.ceil(configurations / size))
