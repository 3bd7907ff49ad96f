"""The rules engine: evaluate every rule against the profile's facts -> ranking and trace. Pure."""

from __future__ import annotations

import dataclasses
import enum
import string
from typing import Any, Iterable, Mapping

from advisor import thresholds
from advisor.types import Family, Profile
from rules.facts import FACTS, facts
from rules.model import Check, Rule

THRESHOLDS = {name: value for name, value in vars(thresholds).items() if name.isupper()}


@dataclasses.dataclass(frozen=True)
class RuleResult:
    rule: str
    fired: bool
    reason: str
    source: str
    checks: tuple[Check, ...]
    effects: tuple[str, ...]  # e.g. "boosting +30", "cnn excluded"


@dataclasses.dataclass(frozen=True)
class Ranked:
    family: Family
    score: float
    reasons: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Excluded:
    family: Family
    reasons: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Decision:
    family: Family
    chosen_by: str  # "rules" or "override"
    ranking: tuple[Ranked, ...]
    excluded: tuple[Excluded, ...]
    trace: tuple[RuleResult, ...]
    facts: dict[str, Any]
    notes: tuple[str, ...] = ()


def check_rules(rules: Iterable[Rule]) -> tuple[Rule, ...]:
    """Fail at load time on unknown facts, duplicate ids or reasons that quote unknown names."""
    rules = tuple(rules)
    seen: set[str] = set()
    known = set(FACTS) | set(THRESHOLDS)
    for rule in rules:
        if rule.id in seen:
            raise ValueError(f"rule id {rule.id!r} is used twice")
        seen.add(rule.id)
        unknown = rule.when.facts_used() - set(FACTS)
        quoted = {field.split(".")[0].split("[")[0] for _, field, _, _ in string.Formatter().parse(rule.reason) if field}
        unknown |= quoted - known
        if unknown:
            raise ValueError(f"rule {rule.id!r} names unknown fact(s) {sorted(unknown)}; known: {sorted(FACTS)}")
        if not rule.effects or not rule.source:
            raise ValueError(f"rule {rule.id!r} needs at least one effect and a source")
    return rules


def decide(profile: Profile, rules: tuple[Rule, ...], override: Family | None = None,
           budget_s: float | None = None) -> Decision:
    """Score every family by the rules that fire on the profile's facts (and the run's budget,
    where it tunes) and rank them; `override` is the user's --family."""
    known = facts(profile, budget_s)
    scores = {family: 0.0 for family in Family}
    reasons: dict[Family, list[str]] = {family: [] for family in Family}
    excluded: dict[Family, list[str]] = {}
    trace = []
    for rule in rules:
        fired, checks = rule.when.evaluate(known)
        reason = explain(rule.reason, known)
        trace.append(RuleResult(rule.id, fired, reason, rule.source, checks, tuple(_describe(e) for e in rule.effects)))
        if not fired:
            continue
        for effect in rule.effects:
            if effect.exclude:
                excluded.setdefault(effect.family, []).append(reason)
            else:
                scores[effect.family] += effect.points
                reasons[effect.family].append(reason)
    order = list(Family)  # ties go to the earlier, cheaper family
    ranking = tuple(
        Ranked(f, scores[f], tuple(reasons[f]))
        for f in sorted((f for f in Family if f not in excluded), key=lambda f: (-scores[f], order.index(f)))
    )
    notes = []
    if override is not None:
        best = ranking[0].family.value if ranking else "none"
        if best == override.value:
            notes.append(f"--family {override.value} agrees with the rules, which ranked {best} first too")
        else:
            notes.append(f"--family {override.value} overrides the rules, which ranked {best} first")
        if override in excluded:
            notes.append(f"the rules excluded {override.value}: {excluded[override][0]}")
    family = override or (ranking[0].family if ranking else Family.KMEANS)
    return Decision(
        family=family,
        chosen_by="override" if override is not None else "rules",
        ranking=ranking,
        excluded=tuple(Excluded(f, tuple(r)) for f, r in excluded.items()),
        trace=tuple(trace),
        facts=known,
        notes=tuple(notes),
    )


def contenders(decision: Decision, gap: float = thresholds.RACE_MAX_POINT_GAP) -> tuple[Family, ...]:
    """The rules' first and second family when the rules chose and their points are at most `gap`
    apart (advisor/thresholds.py, calibrated in bench/results/race_margin.md): the two to race on a
    random subset before the search. Empty when the rules are clear or the user chose the family."""
    if decision.chosen_by != "rules" or len(decision.ranking) < 2:
        return ()
    first, second = decision.ranking[:2]
    return (first.family, second.family) if first.score - second.score <= gap else ()


def settle(decision: Decision, winner: Family, reason: str) -> Decision:
    """The decision after a family race: `winner` is the family, chosen by the race."""
    pick = decision.family
    said = (f"the race on a random subset kept the rules' pick {pick.value}: {reason}" if winner == pick
            else f"the race on a random subset chose {winner.value} over the rules' pick {pick.value}: {reason}")
    return dataclasses.replace(decision, family=winner, chosen_by="race", notes=decision.notes + (said,))


class _Formatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        if value is None:
            return "n/a"
        if isinstance(value, enum.Enum):
            value = value.value
        return super().format_field(value, format_spec)


def explain(template: str, known: Mapping[str, Any]) -> str:
    return _Formatter().vformat(template, (), {**THRESHOLDS, **known})


def _describe(effect) -> str:
    if effect.exclude:
        return f"{effect.family.value} excluded"
    return f"{effect.family.value} {effect.points:+g}"
