"""Business time: working hours per weekday in a time zone, public holidays (Vietnam's lunar
ones included, from the `holidays` package), extra days off and extra working days (the
make-up Saturdays Vietnam announces).

Two operations are all the SLA needs, both exact to the second and both in UTC:
`add(start, seconds)` is the instant when `seconds` of business time have passed after
`start`, and `between(a, b)` the business seconds from `a` to `b`. They are inverses:
`between(start, add(start, s)) == s`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

Interval = tuple[time, time]
MAX_DAYS = 3660  # never search further than ten years for working time


@lru_cache(maxsize=64)
def _public_holidays(country: str, year: int) -> dict[date, str]:
    """Built once per country and year: the `holidays` objects are slow to make."""
    return {day: str(name) for day, name in
            holidays.country_holidays(country, years=year).items()}


@dataclass(frozen=True)
class Calendar:
    """`hours[weekday]` (0 = Monday) lists the working intervals of that day; `always` is
    24/7. `extra_working` days use `make_up_hours` (the hours of a normal weekday)."""

    zone: ZoneInfo
    hours: Mapping[int, tuple[Interval, ...]] = field(default_factory=dict)
    always: bool = False
    country: str | None = "VN"
    days_off: frozenset[date] = frozenset()
    extra_working: frozenset[date] = frozenset()
    make_up_hours: tuple[Interval, ...] = ()
    name: str = "business"

    def is_day_off(self, day: date) -> str | None:
        """Why `day` has no working hours (a holiday, a configured day off), or None."""
        if day in self.extra_working:
            return None
        if day in self.days_off:
            return "day off"
        if self.country:
            return _public_holidays(self.country, day.year).get(day)
        return None

    def __post_init__(self) -> None:
        # a day's working intervals, computed once: every due time walks the same days
        object.__setattr__(self, "_days", {})
        object.__setattr__(self, "_totals", {})

    def intervals_on(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The working intervals of a local day, as UTC instants."""
        days: dict[date, tuple[tuple[datetime, datetime], ...]] = self._days  # type: ignore[attr-defined]
        found = days.get(day)
        if found is None:
            found = self._intervals_on(day)
            if len(days) > 20_000:
                days.clear()
            days[day] = found
        return found

    def _intervals_on(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        if self.always:
            start = datetime.combine(day, time(0), self.zone)
            return ((start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)),)
        if self.is_day_off(day) is not None:
            return ()
        parts = self.make_up_hours if day in self.extra_working else \
            self.hours.get(day.weekday(), ())
        found = []
        for begin, end in parts:
            a = datetime.combine(day, begin, self.zone).astimezone(UTC)
            b = (datetime.combine(day, end, self.zone) if end != time(0)
                 else datetime.combine(day + timedelta(days=1), time(0), self.zone))
            found.append((a, b.astimezone(UTC)))
        return tuple(found)

    def _intervals_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        day = start.astimezone(self.zone).date() - timedelta(days=1)  # an interval may
        for _ in range(MAX_DAYS):                                     # start the day before
            for a, b in self.intervals_on(day):
                if b > start:
                    yield max(a, start), b
            day += timedelta(days=1)
        raise ValueError(f"calendar {self.name}: no working time within ten years")

    def next_working(self, when: datetime) -> datetime:
        """`when` itself during working hours, else the start of the next working time
        (a message at 22:00 on the eve of Tết is answered on the first morning after)."""
        when = when.astimezone(UTC)
        if self.always:
            return when
        return next(self._intervals_from(when))[0]

    def add(self, start: datetime, seconds: float) -> datetime:
        """When `seconds` of working time have passed after `start` (UTC)."""
        start = start.astimezone(UTC)
        if seconds <= 0:
            return start
        if self.always:
            return start + timedelta(seconds=seconds)
        left = float(seconds)
        day = start.astimezone(self.zone).date() - timedelta(days=1)  # an interval may
        for _ in range(MAX_DAYS):                                     # start the day before
            intervals = self.intervals_on(day)
            if intervals and intervals[0][0] >= start:  # a whole day after `start`
                total = self._day_seconds(day, intervals)
                if total < left:  # skipped at once: most of a long target is whole days
                    left -= total
                    day += timedelta(days=1)
                    continue
            for a, b in intervals:
                if b <= start:
                    continue
                a = max(a, start)
                span = (b - a).total_seconds()
                if span >= left:
                    return a + timedelta(seconds=left)
                left -= span
            day += timedelta(days=1)
        raise ValueError(f"calendar {self.name}: no working time within ten years")

    def _day_seconds(self, day: date, intervals: tuple[tuple[datetime, datetime], ...]
                     ) -> float:
        totals: dict[date, float] = self._totals  # type: ignore[attr-defined]
        found = totals.get(day)
        if found is None:
            found = sum((b - a).total_seconds() for a, b in intervals)
            if len(totals) > 20_000:
                totals.clear()
            totals[day] = found
        return found

    def between(self, a: datetime, b: datetime) -> float:
        """Working seconds from `a` to `b` (0 when `b` is not after `a`)."""
        a, b = a.astimezone(UTC), b.astimezone(UTC)
        if b <= a:
            return 0.0
        if self.always:
            return (b - a).total_seconds()
        total = timedelta()
        for start, end in self._intervals_from(a):
            if start >= b:
                break
            total += min(end, b) - start
        return total.total_seconds()

    def skipped(self, a: datetime, b: datetime) -> list[str]:
        """The days off between two instants, named (for `sla explain`)."""
        names: list[str] = []
        day = a.astimezone(self.zone).date()
        last = b.astimezone(self.zone).date()
        while day <= last and len(names) < 60:
            why = None if self.always else self.is_day_off(day)
            if why:
                names.append(f"{day.isoformat()} {why}")
            day += timedelta(days=1)
        return names


def parse_hours(spec: Mapping[str, str]) -> dict[int, tuple[Interval, ...]]:
    """`{"mon-fri": "08:00-12:00, 13:00-17:30", "sat": "08:00-12:00"}` → per weekday."""
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    result: dict[int, tuple[Interval, ...]] = {}
    for key, value in spec.items():
        first, _, last = key.strip().lower().partition("-")
        if first not in days or (last and last not in days):
            raise ValueError(f"hours: {key!r} is not a day or a range of days (mon-fri)")
        a, b = days.index(first), days.index(last or first)
        if a > b:
            raise ValueError(f"hours: {key!r} runs backwards")
        intervals = []
        for part in str(value).split(","):
            begin, _, end = part.strip().partition("-")
            try:
                start_t, end_t = time.fromisoformat(begin.strip()), \
                    time.fromisoformat(end.strip()) if end.strip() != "24:00" else time(0)
            except ValueError:
                raise ValueError(f"hours: {part.strip()!r} is not HH:MM-HH:MM") from None
            if end_t != time(0) and end_t <= start_t:
                raise ValueError(f"hours: {part.strip()!r} ends before it starts")
            intervals.append((start_t, end_t))
        intervals.sort()
        for (_, e1), (s2, _) in zip(intervals, intervals[1:], strict=False):
            if e1 == time(0) or s2 < e1:
                raise ValueError(f"hours: intervals of {key!r} overlap")
        for day in range(a, b + 1):
            result[day] = tuple(intervals)
    return result
