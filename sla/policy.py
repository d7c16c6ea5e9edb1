"""SLA policies: which one applies to a ticket (first match in configuration order), and
what it promises: targets for the first response, the next response after each customer
message, and the resolution, each with its warning point and a ladder of further levels;
and, when the ticket is handed to a supplier, the supplier's own targets toward us.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sla.calendar import Calendar

TIMERS = ("first_response", "next_response", "resolution", "supplier_first_response",
          "supplier_resolution")
CUSTOMER_TIMERS = TIMERS[:3]
SUPPLIER_TIMERS = TIMERS[3:]


@dataclass(frozen=True, slots=True)
class Warn:
    """The yellow point: a share of the target (`fraction`, e.g. 0.8 = at 80% of the time)
    or a fixed number of business seconds before the deadline."""

    fraction: float | None = None
    before_seconds: float | None = None

    def offset(self, target: float) -> float:
        """Business seconds after the start at which the timer turns yellow."""
        if self.before_seconds is not None:
            return max(0.0, target - self.before_seconds)
        return target * (self.fraction if self.fraction is not None else 0.8)

    def describe(self) -> str:
        if self.before_seconds is not None:
            return f"{self.before_seconds / 3600:g} h before the deadline"
        return f"at {100 * (self.fraction or 0.8):g}% of the time"


@dataclass(frozen=True, slots=True)
class Step:
    """A further level after red: `after_seconds` of wall time past the deadline, tell
    `notify` (agent names, or `managers` for the department's managers)."""

    after_seconds: float
    notify: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Conditions:
    categories: frozenset[str] = frozenset()
    topics: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    tiers: frozenset[str] = frozenset()
    priorities: frozenset[str] = frozenset()
    departments: frozenset[str] = frozenset()

    def checks(self) -> tuple[tuple[str, frozenset[str]], ...]:
        """(the fact's name, the values it may take; empty: any), one per condition."""
        return (("category", self.categories), ("topic", self.topics),
                ("channel", self.channels), ("tier", self.tiers),
                ("priority", self.priorities), ("department", self.departments))

    def match(self, facts: Mapping[str, str | None]) -> bool:
        return all(not allowed or facts.get(name) in allowed for name, allowed in self.checks())

    def describe(self) -> str:
        parts = [f"{name} in {sorted(values)}" for name, values in self.checks() if values]
        return " and ".join(parts) or "every ticket"


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    when: Conditions
    calendar: Calendar
    targets: Mapping[str, float]  # timer -> business seconds; a missing timer is not run
    warn: Warn = field(default_factory=Warn)
    ladder: tuple[Step, ...] = ()


def choose(policies: list[Policy], facts: Mapping[str, str | None]) -> Policy | None:
    return next((p for p in policies if p.when.match(facts)), None)
