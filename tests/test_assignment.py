"""Round-robin offers: shifts (including overnight), skills, caps, order."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from router.assignment import Agent, choose, on_shift, parse_shift

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=HCM)


def agent(name: str, shift: str = "always", skills: tuple[str, ...] = (),
          cap: int = 10, departments: tuple[str, ...] = ("care",)) -> Agent:
    return Agent(name, frozenset(departments), frozenset(skills), cap, parse_shift(shift))


def test_shifts() -> None:
    day = parse_shift("mon-fri 08:00-17:30; sat 08:00-12:00")
    assert on_shift(day, MONDAY_10)
    assert not on_shift(day, MONDAY_10.replace(hour=18))
    assert on_shift(day, datetime(2026, 11, 28, 9, 0, tzinfo=HCM))  # Saturday morning
    assert not on_shift(day, datetime(2026, 11, 29, 9, 0, tzinfo=HCM))  # Sunday
    night = parse_shift("fri-sat 22:00-06:00")
    assert on_shift(night, datetime(2026, 11, 28, 2, 0, tzinfo=HCM))  # Friday's night
    assert not on_shift(night, datetime(2026, 11, 23, 2, 0, tzinfo=HCM))  # Sunday's night
    assert on_shift(parse_shift("always"), MONDAY_10)
    for bad in ("weekdays 8-5", "mon 25:00-26:00", "xyz 08:00-09:00"):
        with pytest.raises(ValueError):
            parse_shift(bad)


def test_round_robin_order_skills_caps_and_reasons() -> None:
    team = [agent("an"), agent("binh", skills=("service",)), agent("chi", shift="sat 08:00-12:00"),
            agent("dung", cap=1)]
    first = choose(team, "care", "product", MONDAY_10, {}, None)
    assert first.agent == "an"
    assert choose(team, "care", "product", MONDAY_10, {}, "an").agent == "dung"  # binh lacks
    assert choose(team, "care", "service", MONDAY_10, {}, "an").agent == "binh"  # the skill
    assert choose(team, "care", "product", MONDAY_10, {"dung": 1}, "an").agent == "an"
    assert choose(team, "other", "product", MONDAY_10, {}, None).agent is None
    full = choose([agent("an", cap=1)], "care", "product", MONDAY_10, {"an": 1}, None)
    assert full.agent is None and "maximum" in full.reason
    away = choose([agent("chi", shift="sat 08:00-12:00")], "care", "product", MONDAY_10, {},
                  None)
    assert away.agent is None and "on shift" in away.reason
