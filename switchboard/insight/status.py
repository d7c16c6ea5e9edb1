"""`switchboard status`: is the system keeping up? The inbox backlog and its oldest age,
the workers alive (Redis) and who holds which partition, the outbox backlog and failures,
and how far the SLA sweeper lags behind the due times."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select

from tickets import inbox
from tickets.schema import outbox, tickets

if TYPE_CHECKING:
    from switchboard.intake.redis_inbox import RedisInbox


@dataclass(frozen=True, slots=True)
class Status:
    inbox: str  # "table" or "redis"
    inbox_waiting: int
    inbox_oldest_seconds: float | None
    dead_letters: int
    workers: list[str]
    partitions: dict[int, str | None]
    outbox_pending: int
    outbox_sending: int
    outbox_failed: int
    outbox_oldest_pending_seconds: float | None
    sla_due: int
    sweeper_lag_seconds: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def gather(conn: Connection, queue: RedisInbox | None, now: datetime) -> Status:
    if queue is not None:
        q = queue.stats()
        kind, waiting, oldest, dead = "redis", q.waiting, q.oldest, q.dead
        workers, partitions = q.workers, q.partitions
    else:
        t = inbox.stats(conn)
        kind, waiting, oldest, dead = "table", t.waiting, t.oldest, t.dead
        workers, partitions = [], {}
    counts: dict[str, int] = dict(conn.execute(select(outbox.c.status, func.count())
                               .group_by(outbox.c.status)).all())
    oldest_pending = conn.execute(select(func.min(outbox.c.created_at))
                                  .where(outbox.c.status == "pending")).scalar()
    due = conn.execute(select(func.count(), func.min(tickets.c.sla_next_at))
                       .where(tickets.c.sla_next_at <= now)).one()
    return Status(
        inbox=kind, inbox_waiting=waiting,
        inbox_oldest_seconds=_age(now, oldest), dead_letters=dead, workers=workers,
        partitions=partitions, outbox_pending=int(counts.get("pending", 0)),
        outbox_sending=int(counts.get("sending", 0)),
        outbox_failed=int(counts.get("failed", 0)),
        outbox_oldest_pending_seconds=_age(now, oldest_pending), sla_due=int(due[0]),
        sweeper_lag_seconds=_age(now, due[1]))


def _age(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else round(max(0.0, (now - then).total_seconds()), 1)


def render(s: Status) -> list[str]:
    def age(seconds: float | None) -> str:
        return "—" if seconds is None else f"{seconds:.1f} s"

    lines = [f"inbox ({s.inbox}): {s.inbox_waiting} waiting, oldest {age(s.inbox_oldest_seconds)}"
             f", {s.dead_letters} dead-lettered"]
    if s.inbox == "redis":
        held: dict[str, list[int]] = {}
        for p, holder in s.partitions.items():
            held.setdefault(holder or "(nobody)", []).append(p)
        lines.append(f"workers alive: {len(s.workers)}")
        lines += [f"  {who}: partitions {', '.join(map(str, ps))}" for who, ps in held.items()]
    lines.append(f"outbox: {s.outbox_pending} pending (oldest "
                 f"{age(s.outbox_oldest_pending_seconds)}), {s.outbox_sending} sending, "
                 f"{s.outbox_failed} failed")
    lines.append(f"sla sweeper: {s.sla_due} ticket(s) due, lag {age(s.sweeper_lag_seconds)}")
    return lines
