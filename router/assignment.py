"""Who a new ticket is offered to: round-robin over the department's agents who are on
shift, have room (fewer open tickets than their cap) and, where skills are configured, know
the ticket's category. Pure: the caller supplies the agents, their loads and the cursor.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PART = re.compile(r"^\s*([a-z]{3})(?:\s*-\s*([a-z]{3}))?\s+(\d{1,2}):(\d{2})\s*-\s*"
                   r"(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True, slots=True)
class ShiftPart:
    days: frozenset[int]  # 0 = Monday
    start: time
    end: time  # an end before the start runs past midnight


Shift = tuple[ShiftPart, ...]  # empty: always on shift


def parse_shift(text: str) -> Shift:
    """`always`, or parts like `mon-fri 08:00-17:30; sat 08:00-12:00` (local time)."""
    text = text.strip().lower()
    if text in ("", "always", "24/7"):
        return ()
    parts = []
    for chunk in text.split(";"):
        match = _PART.match(chunk)
        if match is None:
            raise ValueError(f"shift {chunk.strip()!r}: write e.g. 'mon-fri 08:00-17:30'")
        first, last, h1, m1, h2, m2 = match.groups()
        if first not in DAYS or (last and last not in DAYS):
            raise ValueError(f"shift {chunk.strip()!r}: days are {', '.join(DAYS)}")
        a, b = DAYS.index(first), DAYS.index(last or first)
        days = frozenset(range(a, b + 1)) if a <= b else frozenset([*range(a, 7),
                                                                    *range(0, b + 1)])
        try:
            start, end = time(int(h1), int(m1)), time(int(h2), int(m2))
        except ValueError:
            raise ValueError(f"shift {chunk.strip()!r}: not a time of day") from None
        parts.append(ShiftPart(days, start, end))
    return tuple(parts)


def on_shift(shift: Shift, local: datetime) -> bool:
    if not shift:
        return True
    now, day = local.time(), local.weekday()
    for part in shift:
        if part.start <= part.end:
            if day in part.days and part.start <= now < part.end:
                return True
        elif (day in part.days and now >= part.start) or \
                ((day - 1) % 7 in part.days and now < part.end):
            return True
    return False


@dataclass(frozen=True, slots=True)
class Agent:
    name: str
    departments: frozenset[str]
    skills: frozenset[str]  # categories; empty: every category
    max_open: int
    shift: Shift


@dataclass(frozen=True, slots=True)
class Offer:
    agent: str | None
    reason: str


def choose(agents: Sequence[Agent], department: str, category: str, local_now: datetime,
           open_counts: Mapping[str, int], last: str | None) -> Offer:
    """The next eligible agent after `last` in configuration order, and why."""
    members = [a for a in agents if department in a.departments]
    if not members:
        return Offer(None, f"no agent belongs to {department}")
    skilled = [a for a in members if not a.skills or category in a.skills]
    if not skilled:
        return Offer(None, f"no agent of {department} handles {category}")
    present = [a for a in skilled if on_shift(a.shift, local_now)]
    if not present:
        return Offer(None, f"nobody of {department} is on shift now")
    free = [a for a in present if open_counts.get(a.name, 0) < a.max_open]
    if not free:
        return Offer(None, f"every agent of {department} on shift holds their maximum of "
                     "open tickets")
    names = [a.name for a in members]
    start = names.index(last) + 1 if last in names else 0
    ordered = members[start:] + members[:start]
    chosen = next(a for a in ordered if a in free)
    load = open_counts.get(chosen.name, 0)
    return Offer(chosen.name, f"round-robin in {department}: {chosen.name} is on shift with "
                 f"{load}/{chosen.max_open} open tickets")
