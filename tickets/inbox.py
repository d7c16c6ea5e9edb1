"""The durable inbox as a table: connectors put, the pipeline worker claims and acknowledges.

A connector answers its platform only after `put` committed (DESIGN invariant 1). The worker
claims a batch and deletes each row in the same transaction that writes its ticket, so a crash
anywhere rolls both back together: nothing is lost and nothing is applied twice. On PostgreSQL
the claim is `FOR UPDATE SKIP LOCKED`, so several workers share the table without waiting on
each other; SQLite has one writer and ignores the clause.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tickets.fastsql import FastInsert
from tickets.messages import InboundMessage
from tickets.schema import inbox


@dataclass(frozen=True, slots=True)
class InboxItem:
    id: int
    attempts: int
    message: InboundMessage


_PUT = FastInsert(inbox, skip_conflicts_on=("channel", "external_id"))


def put(conn: Connection, message: InboundMessage, now: datetime) -> bool:
    """Store the message; False when the same `(channel, external_id)` is already waiting.
    (RETURNING says which: rowcount is not reliable across drivers for ON CONFLICT.)"""
    return _PUT.one(conn, {
        "channel": message.channel.value,
        "external_id": message.external_id,
        "payload": orjson.dumps(message.to_dict()).decode(),
        "received_at": now,
        "attempts": 0,
        "dead": False,
    }) is not None


def put_many(conn: Connection, batch: list[InboundMessage], now: datetime) -> int:
    """Bulk form of `put` for imports: one statement per batch; returns how many were new."""
    if not batch:
        return 0
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    rows = [
        {
            "channel": m.channel.value,
            "external_id": m.external_id,
            "payload": orjson.dumps(m.to_dict()).decode(),
            "received_at": now,
            "attempts": 0,
            "dead": False,
        }
        for m in batch
    ]
    stmt = (
        insert(inbox)
        .on_conflict_do_nothing(index_elements=["channel", "external_id"])
        .returning(inbox.c.id)
    )
    return len(conn.execute(stmt, rows).all())


def claim(conn: Connection, limit: int) -> list[InboxItem]:
    stmt = (
        select(inbox.c.id, inbox.c.attempts, inbox.c.payload)
        .where(inbox.c.dead.is_(False))
        .order_by(inbox.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [
        InboxItem(row.id, row.attempts, InboundMessage.from_dict(orjson.loads(row.payload)))
        for row in conn.execute(stmt)
    ]


def ack(conn: Connection, ids: list[int]) -> None:
    if ids:
        conn.execute(delete(inbox).where(inbox.c.id.in_(ids)))


def fail(conn: Connection, item_id: int, error: str, max_attempts: int) -> bool:
    """Count a failed attempt; after `max_attempts` the item is dead-lettered. True if dead."""
    row = conn.execute(
        update(inbox)
        .where(inbox.c.id == item_id)
        .values(attempts=inbox.c.attempts + 1, last_error=error[:2000])
        .returning(inbox.c.attempts)
    ).one()
    dead = bool(row.attempts >= max_attempts)
    if dead:
        conn.execute(update(inbox).where(inbox.c.id == item_id).values(dead=True))
    return dead


@dataclass(frozen=True, slots=True)
class InboxStats:
    waiting: int
    dead: int
    oldest: datetime | None


def stats(conn: Connection) -> InboxStats:
    row = conn.execute(
        select(
            func.count().filter(inbox.c.dead.is_(False)),
            func.count().filter(inbox.c.dead.is_(True)),
            func.min(inbox.c.received_at),
        )
    ).one()
    return InboxStats(waiting=int(row[0]), dead=int(row[1]), oldest=row[2])
