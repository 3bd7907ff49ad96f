"""The vocabulary rules are written in: typed conditions over profile facts, effects on families.

A rule reads like a sentence: an id, a condition, an effect on the ranking, a reason that quotes
the values it looked at, and the source the rule comes from (a seed text or a measurement).
"""

from __future__ import annotations

import dataclasses
import enum
import operator
from typing import Any, Callable, Mapping, Union

from advisor.types import Family


class Op(str, enum.Enum):
    EQ = "=="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    IN = "in"
    NOT_IN = "not in"
    IS = "is"


_COMPARE: dict[Op, Callable[[Any, Any], bool]] = {
    Op.EQ: operator.eq,
    Op.NE: operator.ne,
    Op.LT: operator.lt,
    Op.LE: operator.le,
    Op.GT: operator.gt,
    Op.GE: operator.ge,
    Op.IN: lambda actual, expected: actual in expected,
    Op.NOT_IN: lambda actual, expected: actual not in expected,
    Op.IS: operator.is_,
}


@dataclasses.dataclass(frozen=True)
class Check:
    """One condition as evaluated: what it looked at and whether it held."""

    fact: str
    op: Op
    expected: Any
    actual: Any
    passed: bool


@dataclasses.dataclass(frozen=True)
class Condition:
    fact: str
    op: Op
    value: Any

    def evaluate(self, facts: Mapping[str, Any]) -> tuple[bool, tuple[Check, ...]]:
        actual = facts[self.fact]
        # A fact that was not measured (None) satisfies only an explicit `is None`.
        if actual is None and self.op != Op.IS:
            passed = False
        else:
            try:
                passed = bool(_COMPARE[self.op](actual, self.value))
            except TypeError:
                passed = False
        return passed, (Check(self.fact, self.op, self.value, actual, passed),)

    def facts_used(self) -> set[str]:
        return {self.fact}


@dataclasses.dataclass(frozen=True)
class AllOf:
    conditions: tuple["When", ...]

    def evaluate(self, facts: Mapping[str, Any]) -> tuple[bool, tuple[Check, ...]]:
        # Every part is evaluated (no short circuit) so the trace shows every value looked at.
        results = [c.evaluate(facts) for c in self.conditions]
        return all(r[0] for r in results), tuple(check for r in results for check in r[1])

    def facts_used(self) -> set[str]:
        return set().union(*(c.facts_used() for c in self.conditions))


@dataclasses.dataclass(frozen=True)
class AnyOf:
    conditions: tuple["When", ...]

    def evaluate(self, facts: Mapping[str, Any]) -> tuple[bool, tuple[Check, ...]]:
        results = [c.evaluate(facts) for c in self.conditions]
        return any(r[0] for r in results), tuple(check for r in results for check in r[1])

    def facts_used(self) -> set[str]:
        return set().union(*(c.facts_used() for c in self.conditions))


When = Union[Condition, AllOf, AnyOf]


def all_of(*conditions: When) -> AllOf:
    return AllOf(tuple(conditions))


def any_of(*conditions: When) -> AnyOf:
    return AnyOf(tuple(conditions))


@dataclasses.dataclass(frozen=True)
class Effect:
    """Points added to a family's score, or (exclude=True) the family is not applicable."""

    family: Family
    points: float = 0.0
    exclude: bool = False


def boost(family: Family, points: float) -> Effect:
    return Effect(family, points)


def exclude(*families: Family) -> tuple[Effect, ...]:
    return tuple(Effect(f, exclude=True) for f in families)


@dataclasses.dataclass(frozen=True)
class Rule:
    id: str
    when: When
    effects: tuple[Effect, ...]
    reason: str  # a str.format template over the facts and the named thresholds
    source: str
