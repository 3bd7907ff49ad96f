"""The search-space vocabulary, declared once and translated per backend (Ray Tune, KerasTuner).

Bounds are inclusive everywhere; only a backend's translator shifts them (Ray's randint excludes
its upper bound). Each domain checks itself when built, and knows how to sample itself, whether a
value lies inside it, how to narrow around good values (coarse to fine, seed 003) and how to
describe its scale for the report.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Union

import numpy as np


def _check_range(kind: str, low: float, high: float, positive: bool = False) -> None:
    if not low <= high:
        raise ValueError(f"{kind}: low <= high must hold, but got (low={low}, high={high})")
    if positive and low <= 0:
        raise ValueError(f"{kind}: a log scale needs low > 0, but got low={low}")


@dataclasses.dataclass(frozen=True)
class Uniform:
    low: float
    high: float

    def __post_init__(self) -> None:
        _check_range("Uniform", self.low, self.high)

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.low, self.high))

    def contains(self, value: Any) -> bool:
        return self.low <= value <= self.high

    def to_unit(self, value: float) -> float:  # position on the sampling scale, for narrowing
        return value

    def from_unit(self, position: float) -> float:
        return position

    def describe(self) -> str:
        return f"uniform in [{self.low:g}, {self.high:g}]"


@dataclasses.dataclass(frozen=True)
class LogUniform:
    """value = 10^r with r uniform: as many samples in [1e-4, 1e-3] as in [0.1, 1] (seed 003)."""

    low: float
    high: float

    def __post_init__(self) -> None:
        _check_range("LogUniform", self.low, self.high, positive=True)

    def sample(self, rng: np.random.Generator) -> float:
        return float(10 ** rng.uniform(math.log10(self.low), math.log10(self.high)))

    def contains(self, value: Any) -> bool:
        return self.low * (1 - 1e-9) <= value <= self.high * (1 + 1e-9)

    def to_unit(self, value: float) -> float:
        return math.log10(value)

    def from_unit(self, position: float) -> float:
        return 10**position

    def describe(self) -> str:
        return f"log-uniform: 10^r, r in [{math.log10(self.low):g}, {math.log10(self.high):g}]"


@dataclasses.dataclass(frozen=True)
class OneMinusLogUniform:
    """value = 1 - 10^r: for momentum beta in [0.9, 0.999], 1 - beta is log-uniform in [1e-3, 1e-1],
    so 0.9 -> 0.99 gets as many samples as 0.99 -> 0.999 (seed 003, r in [-3, -1])."""

    low: float
    high: float

    def __post_init__(self) -> None:
        _check_range("OneMinusLogUniform", self.low, self.high)
        if not self.high < 1:
            raise ValueError(f"OneMinusLogUniform: high < 1 must hold, but got high={self.high}")

    def sample(self, rng: np.random.Generator) -> float:
        return float(1 - 10 ** rng.uniform(math.log10(1 - self.high), math.log10(1 - self.low)))

    def contains(self, value: Any) -> bool:
        return self.low - 1e-12 <= value <= self.high + 1e-12

    def to_unit(self, value: float) -> float:
        return math.log10(1 - value)

    def from_unit(self, position: float) -> float:
        return 1 - 10**position

    def describe(self) -> str:
        return f"1 - 10^r, r in [{math.log10(1 - self.high):g}, {math.log10(1 - self.low):g}]"


@dataclasses.dataclass(frozen=True)
class IntRange:
    low: int
    high: int
    log: bool = False

    def __post_init__(self) -> None:
        _check_range("IntRange", self.low, self.high, positive=self.log)

    def sample(self, rng: np.random.Generator) -> int:
        if self.log:
            return int(round(10 ** rng.uniform(math.log10(self.low), math.log10(self.high))))
        return int(rng.integers(self.low, self.high + 1))

    def contains(self, value: Any) -> bool:
        return float(value).is_integer() and self.low <= value <= self.high

    def to_unit(self, value: float) -> float:
        return math.log10(value) if self.log else float(value)

    def from_unit(self, position: float) -> int:
        return int(round(10**position if self.log else position))

    def describe(self) -> str:
        return f"integer in [{self.low}, {self.high}]" + (" (log scale)" if self.log else "")


@dataclasses.dataclass(frozen=True)
class PowersOfTwo:
    """Batch sizes 1, 2, 4, ... 2048 (seed 001: 'Values to pick: 1, 2, 4, 8, 16, 32, 64...')."""

    low: int
    high: int

    def __post_init__(self) -> None:
        _check_range("PowersOfTwo", self.low, self.high, positive=True)
        for bound in (self.low, self.high):
            if bound & (bound - 1):
                raise ValueError(f"PowersOfTwo: bounds must be powers of two, but got {bound}")

    @property
    def options(self) -> tuple[int, ...]:
        return tuple(2**k for k in range(self.low.bit_length() - 1, self.high.bit_length()))

    def sample(self, rng: np.random.Generator) -> int:
        return int(rng.choice(self.options))

    def contains(self, value: Any) -> bool:
        return value in self.options

    def to_unit(self, value: float) -> float:
        return math.log2(value)

    def from_unit(self, position: float) -> int:
        return int(2 ** round(position))

    def describe(self) -> str:
        return f"power of two in [{self.low}, {self.high}]"


@dataclasses.dataclass(frozen=True)
class Choice:
    options: tuple[Any, ...]

    def __post_init__(self) -> None:
        if not self.options:
            raise ValueError("Choice: needs at least one option")

    def sample(self, rng: np.random.Generator) -> Any:
        return self.options[int(rng.integers(len(self.options)))]

    def contains(self, value: Any) -> bool:
        return value in self.options

    def describe(self) -> str:
        return "one of " + ", ".join(str(o) for o in self.options)


Numeric = Union[Uniform, LogUniform, OneMinusLogUniform, IntRange, PowersOfTwo]
Domain = Union[Numeric, Choice]


@dataclasses.dataclass(frozen=True)
class Param:
    domain: Domain
    why: str = ""  # the reason for this range and scale, citing its seed


@dataclasses.dataclass(frozen=True)
class Space:
    params: dict[str, Param]
    start: dict[str, Any]  # the seeds' "good start" point, tried first

    def __post_init__(self) -> None:
        missing = set(self.params) - set(self.start)
        outside = [k for k, v in self.start.items() if k in self.params and not self.params[k].domain.contains(v)]
        if missing or outside:
            raise ValueError(f"the start point must set every parameter inside its domain: missing {missing}, outside {outside}")

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        return {name: param.domain.sample(rng) for name, param in self.params.items()}

    def contains(self, config: dict[str, Any]) -> bool:
        return all(param.domain.contains(config[name]) for name, param in self.params.items())

    def clip(self, config: dict[str, Any]) -> dict[str, Any]:
        """`config` with each numeric value moved to its range's nearest end (choices unchanged)."""
        return {name: _clip(self.params[name].domain, value) if name in self.params else value
                for name, value in config.items()}


def _clip(domain: Domain, value: Any) -> Any:
    if isinstance(domain, Choice) or domain.contains(value):
        return value
    return type(value)(min(max(value, domain.low), domain.high))


def coarse_to_fine(space: Space, best: list[dict[str, Any]], widen: float = 0.25) -> Space:
    """Narrow each numeric range to the span of the best configurations (on the range's own scale,
    widened by `widen` of that span on each side), and each choice to the options they used.
    Seed 003: 'Coarse to fine: densely search in a small region' around what the coarse stage found."""
    if not best:
        return space
    params = {}
    for name, param in space.params.items():
        domain, values = param.domain, [config[name] for config in best if name in config]
        if not values:
            params[name] = param
        elif isinstance(domain, Choice):
            params[name] = dataclasses.replace(param, domain=Choice(tuple(o for o in domain.options if o in values)))
        else:
            params[name] = dataclasses.replace(param, domain=_narrow(domain, values, widen))
    start = best[0]
    return Space(params, {name: start.get(name, space.start[name]) for name in space.params})


def _narrow(domain: Numeric, values: list[Any], widen: float) -> Numeric:
    positions = [domain.to_unit(v) for v in values]
    low_end, high_end = sorted((domain.to_unit(domain.low), domain.to_unit(domain.high)))
    span = max(positions) - min(positions) or 0.1 * (high_end - low_end)
    low = max(low_end, min(positions) - widen * span)
    high = min(high_end, max(positions) + widen * span)
    bounds = sorted((domain.from_unit(low), domain.from_unit(high)))
    if isinstance(domain, PowersOfTwo):
        return PowersOfTwo(max(domain.low, bounds[0]), min(domain.high, bounds[1]))
    if isinstance(domain, IntRange):
        return IntRange(max(domain.low, int(bounds[0])), min(domain.high, int(bounds[1])), domain.log)
    clipped = (max(domain.low, bounds[0]), min(domain.high, bounds[1]))
    return type(domain)(*clipped)


def scale_of(domain: Domain) -> str:
    """How a range is sampled, for reports and plots: log, one-minus-log, powers-of-two, linear or choice."""
    if isinstance(domain, LogUniform) or (isinstance(domain, IntRange) and domain.log):
        return "log"
    if isinstance(domain, OneMinusLogUniform):
        return "one-minus-log"
    if isinstance(domain, PowersOfTwo):
        return "powers-of-two"
    if isinstance(domain, Choice):
        return "choice"
    return "linear"
