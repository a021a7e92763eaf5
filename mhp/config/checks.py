"""Value ranges of the command configs: a config that exists is one the command can run with.

Each frozen dataclass of :mod:`mhp.config` calls :func:`check_config` with its table of :class:`Rule` from
``__post_init__``, so the check applies to configs built from flags, from YAML and from Python alike. Names
(backbones, precisions, runtimes...) are checked where their lists live, not here.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from mhp.errors import MhpError


@dataclass(frozen=True)
class Rule:
    """Bounds of a number (or of every number of a tuple), inclusive unless ``above`` / ``below`` is used."""

    at_least: float | None = None
    at_most: float | None = None
    above: float | None = None  # strictly greater
    below: float | None = None  # strictly smaller
    choices: Collection[Any] | None = None


def at_least(low: float, high: float | None = None) -> Rule:
    return Rule(at_least=low, at_most=high)


POSITIVE = Rule(above=0.0)
PROBABILITY = Rule(at_least=0.0, at_most=1.0)
PROTOCOL = Rule(choices=(1, 2))


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _problem(value: Any, rule: Rule) -> str | None:
    """Why ``value`` breaks ``rule`` (``must be ...``), or None when it fits."""
    if rule.choices is not None:
        return None if value in rule.choices else f"must be one of {', '.join(map(str, rule.choices))}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "must be a number"
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    for bound, fits, words in (
        (rule.at_least, lambda b: value >= b, "at least"),
        (rule.at_most, lambda b: value <= b, "at most"),
        (rule.above, lambda b: value > b, "greater than"),
        (rule.below, lambda b: value < b, "smaller than"),
    ):
        if bound is not None and not fits(bound):
            return f"must be {words} {bound:g}"
    return None


def check_config(cfg: Any, rules: Mapping[str, Rule]) -> None:
    """Raise a one-line MhpError naming the flag of the first field of ``cfg`` outside its rule (None skips)."""
    for f in dataclasses.fields(cfg):
        rule, value = rules.get(f.name), getattr(cfg, f.name)
        if rule is None or value is None:
            continue
        for item in value if isinstance(value, tuple) else (value,):
            problem = _problem(item, rule)
            if problem:
                raise MhpError(f"{flag(f.name)} {problem}, got {_shown(item)}")


def _shown(value: Any) -> str:
    """``repr(value)``, except for integers too long to print (Python refuses beyond 4300 digits)."""
    if isinstance(value, int) and value.bit_length() > 64:
        return f"an integer of {value.bit_length()} bits"
    return repr(value)
