"""What a family's pre-search step declares (FamilyDef.pre_search): the plan runs it before the
search, on the backend, and keeps its record. Its own module, so a step (tuners/duel.py) and the
family registry import it without importing each other."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from tuners.space import Space


@dataclasses.dataclass(frozen=True)
class PreSearch:
    """A step a family runs before its search, on a seeded random subset (the rnn family's
    LSTM-vs-GRU duel, tuners/duel.py). Its record is kept in result.json under `name`."""

    name: str
    budget_share: float  # of the run's budget
    plan: Callable[..., Any]  # (problem, space, seed, trials) -> an object with .problem and .points
    decide: Callable[[list[dict[str, Any]], Any], dict[str, Any]]  # (trial records, plan) -> the record
    settle: Callable[[Space, dict[str, Any]], Space]  # the space the search goes on with
