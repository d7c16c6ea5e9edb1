"""Writes and lookups of tickets, their messages and their journal, inside a transaction.

Every function takes the caller's `Connection`: the pipeline runs a whole message
(ticket, message, journal, inbox acknowledgement) in one transaction, and these functions
never commit on their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from tickets.schema import journal, messages, tickets

OPEN_STATUSES = ("new", "open", "pending_customer", "pending_supplier")
CLOSED_STATUSES = ("resolved", "closed")


@dataclass(frozen=True, slots=True)
class TicketHead:
    """What threading and routing need to know about an existing ticket."""

    id: int
    status: str
    channel: str
    category: str
    topic: str | None
    supplier_id: str | None
    department: str
    customer_id: int
    thread_key: str | None
    confidence: float
    closed_at: datetime | None
    updated_at: datetime


_HEAD_COLUMNS = (
    tickets.c.id, tickets.c.status, tickets.c.channel, tickets.c.category, tickets.c.topic,
    tickets.c.supplier_id, tickets.c.department, tickets.c.customer_id, tickets.c.thread_key,
    tickets.c.confidence, tickets.c.closed_at, tickets.c.updated_at,
)


def _head(row: Any) -> TicketHead:
    return TicketHead(**{column.name: getattr(row, column.name) for column in _HEAD_COLUMNS})


@dataclass(frozen=True, slots=True)
class JournalEntry:
    action: str
    reason: str
    actor: str = "switchboard"
    data: Mapping[str, Any] = field(default_factory=dict)


def message_exists(conn: Connection, channel: str, external_id: str) -> bool:
    row = conn.execute(
        select(messages.c.id).where(
            messages.c.channel == channel, messages.c.external_id == external_id
        )
    ).first()
    return row is not None


def get_head(conn: Connection, ticket_id: int) -> TicketHead | None:
    row = conn.execute(select(*_HEAD_COLUMNS).where(tickets.c.id == ticket_id)).first()
    return None if row is None else _head(row)


def ticket_of_message(conn: Connection, channel: str, external_ids: Sequence[str]) -> int | None:
    """The ticket holding any of these platform message ids (email threading by Message-ID)."""
    if not external_ids:
        return None
    row = conn.execute(
        select(messages.c.ticket_id)
        .where(messages.c.channel == channel, messages.c.external_id.in_(list(external_ids)))
        .order_by(messages.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else int(row.ticket_id)


def latest_by_thread_key(conn: Connection, thread_key: str) -> TicketHead | None:
    row = conn.execute(
        select(*_HEAD_COLUMNS)
        .where(tickets.c.thread_key == thread_key)
        .order_by(tickets.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else _head(row)


def latest_open_for_customer(
    conn: Connection, customer_id: int, channel: str | None, since: datetime
) -> TicketHead | None:
    stmt = select(*_HEAD_COLUMNS).where(
        tickets.c.customer_id == customer_id,
        tickets.c.status.in_(OPEN_STATUSES),
        tickets.c.updated_at >= since,
    )
    if channel is not None:
        stmt = stmt.where(tickets.c.channel == channel)
    row = conn.execute(stmt.order_by(tickets.c.updated_at.desc()).limit(1)).first()
    return None if row is None else _head(row)


def create_ticket(conn: Connection, values: Mapping[str, Any]) -> int:
    result = conn.execute(insert(tickets).values(**values))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def update_ticket(conn: Connection, ticket_id: int, values: Mapping[str, Any]) -> None:
    conn.execute(update(tickets).where(tickets.c.id == ticket_id).values(**values))


def add_message(conn: Connection, values: Mapping[str, Any]) -> int:
    result = conn.execute(insert(messages).values(**values))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def append_journal(
    conn: Connection, ticket_id: int, at: datetime, entries: Iterable[JournalEntry]
) -> None:
    rows = [
        {
            "ticket_id": ticket_id,
            "at": at,
            "actor": e.actor,
            "action": e.action,
            "reason": e.reason,
            "data": dict(e.data),
        }
        for e in entries
    ]
    if rows:
        conn.execute(insert(journal), rows)
