"""Business-time arithmetic, by example and by property (hypothesis)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.calendar import Calendar, parse_hours

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
OFFICE = Calendar(HCM, parse_hours({"mon-fri": "08:00-12:00, 13:00-17:30",
                                    "sat": "08:00-12:00"}),
                  days_off=frozenset({date(2026, 12, 31)}),
                  extra_working=frozenset({date(2027, 2, 20)}),  # a make-up Saturday
                  make_up_hours=((parse_hours({"mon": "08:00-17:00"})[0][0]),))
ALWAYS = Calendar(HCM, always=True)
# a zone with daylight saving time, working through the small hours, to test the edges
BERLIN = Calendar(ZoneInfo("Europe/Berlin"), parse_hours({"mon-sun": "01:00-04:00, 22:00-24:00"}),
                  country="DE")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=HCM).astimezone(UTC)


def test_examples_across_lunch_nights_weekends_and_tet() -> None:
    # Friday 16:30 + 2 working hours: 1 h on Friday, then Saturday 08:00-09:00
    assert OFFICE.add(local(2026, 11, 27, 16, 30), 7200) == local(2026, 11, 28, 9, 0)
    # lunch is not working time
    assert OFFICE.add(local(2026, 11, 23, 11, 30), 3600) == local(2026, 11, 23, 13, 30)
    # Saturday 11:00 + 2 h: 1 h Saturday, Sunday off, Monday 08:00-09:00
    assert OFFICE.add(local(2026, 11, 28, 11, 0), 7200) == local(2026, 11, 30, 9, 0)
    # Tết 2027 (5-10 February) is skipped from the holidays package
    due = OFFICE.add(local(2027, 2, 4, 17, 0), 3600)
    assert due.astimezone(HCM).date() == date(2027, 2, 11)
    assert any("Lunar New Year" in d for d in OFFICE.skipped(local(2027, 2, 4, 17, 0), due))
    # a configured day off and a make-up Saturday
    assert OFFICE.add(local(2026, 12, 30, 17, 0), 3600).astimezone(HCM).date() == \
        date(2027, 1, 2)  # 31 Dec off, 1 Jan New Year, Saturday 2 Jan works
    assert OFFICE.between(local(2027, 2, 20, 8, 0), local(2027, 2, 20, 17, 0)) == 9 * 3600
    # before opening counts from opening; zero is now
    assert OFFICE.add(local(2026, 11, 23, 6, 0), 60) == local(2026, 11, 23, 8, 1)
    assert OFFICE.add(local(2026, 11, 23, 6, 0), 0) == local(2026, 11, 23, 6, 0)
    assert ALWAYS.add(local(2026, 11, 28, 23, 0), 7200) == local(2026, 11, 29, 1, 0)


def test_bad_hours_are_refused() -> None:
    for spec in ({"mon-fri": "17:00-08:00"}, {"weekdays": "08:00-17:00"},
                 {"mon": "08:00-12:00, 11:00-13:00"}, {"fri-mon": "08:00-09:00"},
                 {"mon": "8h-17h"}):
        with pytest.raises(ValueError):
            parse_hours(spec)


instants = st.datetimes(min_value=datetime(2025, 1, 1),  # noqa: DTZ001 (hypothesis wants naive
                        max_value=datetime(2028, 12, 31),  # noqa: DTZ001  bounds)
                        timezones=st.just(UTC))
durations = st.integers(min_value=0, max_value=40 * 24 * 3600)


@settings(max_examples=300, deadline=None)
@given(start=instants, seconds=durations)
def test_between_inverts_add(start: datetime, seconds: int) -> None:
    for calendar in (OFFICE, ALWAYS, BERLIN):
        due = calendar.add(start, seconds)
        assert due >= start
        assert calendar.between(start, due) == pytest.approx(seconds, abs=1e-6)


@settings(max_examples=200, deadline=None)
@given(start=instants, a=durations, b=durations)
def test_add_is_monotonic(start: datetime, a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert OFFICE.add(start, low) <= OFFICE.add(start, high)


@settings(max_examples=200, deadline=None)
@given(start=instants, seconds=st.integers(min_value=1, max_value=30 * 24 * 3600),
       pause=st.integers(min_value=0, max_value=20 * 24 * 3600))
def test_a_pause_never_brings_the_due_time_forward(start: datetime, seconds: int,
                                                   pause: int) -> None:
    """Pausing at some point and resuming later with the remaining business time never
    gives an earlier due time than not pausing."""
    due = OFFICE.add(start, seconds)
    paused_at = start + (due - start) / 2
    remaining = OFFICE.between(paused_at, due)
    resumed = paused_at + timedelta(seconds=pause)
    assert OFFICE.add(resumed, remaining) >= due


def test_next_working_is_now_inside_hours_and_the_next_opening_outside() -> None:
    assert OFFICE.next_working(local(2026, 11, 23, 9, 0)) == local(2026, 11, 23, 9, 0)
    assert OFFICE.next_working(local(2026, 11, 23, 12, 30)) == local(2026, 11, 23, 13, 0)
    assert OFFICE.next_working(local(2026, 11, 27, 22, 0)) == local(2026, 11, 28, 8, 0)
    assert OFFICE.next_working(local(2026, 11, 28, 12, 0)) == local(2026, 11, 30, 8, 0)
    # New Year's Eve evening: the 31st is off, the 1st a holiday: Saturday the 2nd
    assert OFFICE.next_working(local(2026, 12, 30, 18, 0)) == local(2027, 1, 2, 8, 0)
    # the eve of Tết 2027: the holiday runs to the 10th
    assert OFFICE.next_working(local(2027, 2, 4, 18, 0)) == local(2027, 2, 11, 8, 0)
    assert ALWAYS.next_working(local(2026, 11, 28, 23, 0)) == local(2026, 11, 28, 23, 0)
