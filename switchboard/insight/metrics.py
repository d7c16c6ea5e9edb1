"""Prometheus metrics: what the store holds, read at scrape time, and what the SLA sweeper did.

Two kinds of value:

* **From the database, at scrape time** (`DatabaseCollector`): tickets and inbound messages by
  channel, open tickets by SLA level and department, the inbox and the outbox. A handful of
  aggregate queries in one read transaction, so every process that serves `/metrics`
  reports the same figures, however many workers write (the running counts by channel keep
  in memory only what they have already read, to read less next time).
* **In this process** (`SLA_SWEEP_SECONDS`, `SLA_ESCALATIONS`): observed by the sweeper as it
  runs. Module-level objects, registered in no registry of their own; each app's registry
  exposes them, so tests that build many apps never register a name twice.

`build_registry` gives each app its own `CollectorRegistry` (never the library's global one).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter as Tally
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import ColumnElement, Connection, Table, func, select

from tickets.clock import Clock
from tickets.database import Database
from tickets.messages import Channel, customer_channels
from tickets.outbox import FAILED, PENDING, SENDING
from tickets.schema import inbox, messages, outbox, tickets
from tickets.store import OPEN_STATUSES

log = logging.getLogger("switchboard.metrics")

SLA_LEVELS = ("none", "yellow", "red")  # tickets.sla_level (sla.timers.LEVEL_NAMES)
OUTBOX_WAITING = (PENDING, SENDING)
SETTLE = timedelta(minutes=5)  # longer than any transaction that writes tickets or messages

SLA_SWEEP_SECONDS = Histogram(
    "switchboard_sla_sweep_seconds", "Duration of one SLA sweep (every batch due at the time).",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=None)
SLA_ESCALATIONS = Counter(
    "switchboard_sla_escalations", "SLA steps committed by this process's sweeper, by the "
    "level reached (ladder: the configured levels past red).", ["level"], registry=None)
for _level in ("yellow", "red", "ladder"):
    SLA_ESCALATIONS.labels(level=_level)  # present at zero from the start


def escalation_label(level: int) -> str:
    return {1: "yellow", 2: "red"}.get(level, "ladder")


def count_escalations(levels: Iterable[int]) -> None:
    """Call after the sweep's transaction committed, with the level of each step taken."""
    for level in levels:
        SLA_ESCALATIONS.labels(level=escalation_label(level)).inc()


def _age(now: datetime, oldest: datetime | None) -> float:
    return max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0


class RunningCount:
    """Rows of an append-only table (tickets, messages: never deleted, channel and direction
    never changed) counted by one column without reading the whole table on every scrape.

    Rows up to the id `upto` are counted once and remembered; each scrape counts only the
    rows after it, a range of the primary key. `upto` moves to the largest id that was
    visible at least `SETTLE` ago: a PostgreSQL id is handed out before its transaction
    commits, so a smaller id may still appear after a larger one is seen, but not that late.
    The first scrape of a process reads the table once; later ones read the recent rows.
    """

    def __init__(self, table: Table, column: str, *where: ColumnElement[bool]) -> None:
        self.table = table
        self.column = table.c[column]
        self.where = where
        self.upto = 0
        self.settled: Tally[str] = Tally()
        self.seen: deque[tuple[datetime, int]] = deque()  # (when, the largest id visible)
        self.lock = threading.Lock()  # scrapes run in the thread pool, maybe two at once

    def count(self, conn: Connection, now: datetime) -> Tally[str]:
        with self.lock:
            ids = self.table.c.id
            newest = conn.execute(select(func.max(ids))).scalar() or 0
            self.seen.append((now, newest))
            safe = self.upto
            while self.seen and self.seen[0][0] <= now - SETTLE:
                safe = max(safe, self.seen.popleft()[1])
            if safe > self.upto:
                self.settled.update(self._by_column(conn, ids > self.upto, ids <= safe))
                self.upto = safe
            # bounded on both sides, so that SQLite takes the primary key's range rather than
            # walking the (channel, external_id) index in GROUP BY order
            return self.settled + self._by_column(conn, ids > self.upto, ids <= newest)

    def _by_column(self, conn: Connection, *where: ColumnElement[bool]) -> Tally[str]:
        return Tally({key: n for key, n in conn.execute(
            select(self.column, func.count()).where(*where, *self.where)
            .group_by(self.column))})


class DatabaseCollector(Collector):
    """Aggregates over the store, computed on each scrape.

    The filters and groupings follow the indexes (`ix_tickets_status_created` for open
    tickets, `ix_outbox_due` for the outbox's waiting and failed rows; the inbox only holds
    what is not processed yet). Tickets and inbound messages by channel are running counts
    (`RunningCount`): no index has `tickets.channel` or `messages.direction`, and counting
    a million tickets and two million messages whole takes over a second in SQLite.
    Label values that are known up front (channels, SLA levels, configured departments,
    outbox statuses) are reported at zero when absent, so alerts and `rate()` see a series
    from the first scrape. When the database cannot be read, `switchboard_database_up` is 0
    and the other families are left out, so the in-process metrics still come through.
    """

    def __init__(self, db: Database, clock: Clock, departments: Iterable[str] = ()) -> None:
        self.db = db
        self.clock = clock
        self.departments = tuple(departments)
        self.tickets = RunningCount(tickets, "channel")
        self.received = RunningCount(messages, "channel", messages.c.direction == "in")

    def describe(self) -> Iterable[Metric]:
        return [*_families().values(), _up()]

    def collect(self) -> Iterator[Metric]:
        try:
            with self.db.read() as conn:
                families = self._read(conn)
        except Exception:
            log.exception("metrics: the database could not be read")
            yield _up(0)
            return
        yield _up(1)
        yield from families

    def _read(self, conn: Connection) -> list[Metric]:
        now = self.clock.now()
        f = _families()

        for name, running in (("tickets", self.tickets), ("received", self.received)):
            counts = dict.fromkeys(sorted(customer_channels()), 0)
            counts.update(running.count(conn, now))
            for channel, n in counts.items():
                f[name].add_metric([channel], n)

        open_tickets = {d: dict.fromkeys(SLA_LEVELS, 0) for d in self.departments}
        for department, level, n in conn.execute(
                select(tickets.c.department, tickets.c.sla_level, func.count())
                .where(tickets.c.status.in_(OPEN_STATUSES))
                .group_by(tickets.c.department, tickets.c.sla_level)):
            open_tickets.setdefault(department, dict.fromkeys(SLA_LEVELS, 0))[level] = n
        for department, levels in sorted(open_tickets.items()):
            for level, n in levels.items():
                f["open"].add_metric([level, department], n)

        waiting, dead, oldest = conn.execute(select(
            func.count().filter(inbox.c.dead.is_(False)),
            func.count().filter(inbox.c.dead.is_(True)),
            func.min(inbox.c.received_at).filter(inbox.c.dead.is_(False)))).one()
        f["inbox_depth"].add_metric([], waiting)
        f["inbox_age"].add_metric([], _age(now, oldest))
        f["inbox_dead"].add_metric([], dead)

        depth = dict.fromkeys(OUTBOX_WAITING, 0)
        failed = dict.fromkeys(sorted(c.value for c in Channel.all()), 0)
        oldest_pending: datetime | None = None
        for status, channel, n, first in conn.execute(
                select(outbox.c.status, outbox.c.channel, func.count(),
                       func.min(outbox.c.created_at))
                .where(outbox.c.status.in_([*OUTBOX_WAITING, FAILED]))
                .group_by(outbox.c.status, outbox.c.channel)):
            if status == FAILED:
                failed[channel] = n
                continue
            depth[status] += n
            if oldest_pending is None or first < oldest_pending:
                oldest_pending = first
        for status, n in depth.items():
            f["outbox_depth"].add_metric([status], n)
        f["outbox_age"].add_metric([], _age(now, oldest_pending))
        for channel, n in failed.items():
            f["outbox_failed"].add_metric([channel], n)
        return list(f.values())


def _families() -> dict[str, CounterMetricFamily | GaugeMetricFamily]:
    return {
        "tickets": CounterMetricFamily(
            "switchboard_tickets", "Tickets opened, by the channel of their first message.",
            labels=["channel"]),
        "received": CounterMetricFamily(
            "switchboard_messages_received", "Inbound messages stored on tickets, by channel.",
            labels=["channel"]),
        "open": GaugeMetricFamily(
            "switchboard_open_tickets", "Open tickets (new, open, pending_*) by SLA level "
            "and department.", labels=["level", "department"]),
        "inbox_depth": GaugeMetricFamily(
            "switchboard_inbox_depth", "Messages in the durable inbox waiting for the "
            "pipeline (dead letters not counted)."),
        "inbox_age": GaugeMetricFamily(
            "switchboard_inbox_oldest_age_seconds", "Age of the oldest waiting inbox message "
            "(0 when none waits)."),
        "inbox_dead": GaugeMetricFamily(
            "switchboard_inbox_dead_letters", "Inbox messages given up after the last attempt."),
        "outbox_depth": GaugeMetricFamily(
            "switchboard_outbox_depth", "Outbox rows not yet sent, by status.",
            labels=["status"]),
        "outbox_age": GaugeMetricFamily(
            "switchboard_outbox_oldest_pending_age_seconds", "Age since creation of the oldest "
            "outbox row not yet sent (0 when none)."),
        "outbox_failed": GaugeMetricFamily(
            "switchboard_outbox_failed", "Outbox rows given up after the last attempt (send "
            "failures), by channel.", labels=["channel"]),
    }


def _up(value: int | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily("switchboard_database_up",
                             "1 when the scrape could read the database, else 0.", value=value)


def build_registry(db: Database, clock: Clock,
                   departments: Iterable[str] = ()) -> CollectorRegistry:
    """A registry of its own for one app: the database collector and the sweeper's metrics."""
    registry = CollectorRegistry()
    registry.register(DatabaseCollector(db, clock, departments))
    registry.register(SLA_SWEEP_SECONDS)
    registry.register(SLA_ESCALATIONS)
    return registry
