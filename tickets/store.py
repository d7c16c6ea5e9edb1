"""Writes and lookups of tickets, their messages and their journal, inside a transaction.

Every function takes the caller's `Connection`: the pipeline runs a whole message
(ticket, message, journal, inbox acknowledgement) in one transaction, and these functions
never commit on their own. The hot-path statements are built once with bound parameters and
executed with a parameter dict: building `insert().values(...)` per call cost SQLAlchemy
more than SQLite spent running it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.sql import ClauseElement

from tickets import search
from tickets.erasure import erased_key
from tickets.fastsql import FastInsert, FastSelect, FastUpdate
from tickets.schema import journal, messages, tickets

OPEN_STATUSES = ("new", "open", "pending_customer", "pending_supplier", "pending_carrier")
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
    sla: Mapping[str, Any] | None = None  # the SLA clocks (sla/timers.py)
    priority: str = "normal"
    bot_state: str | None = None  # the bot's part: answered, handed_over, or never involved


_HEAD_COLUMNS = (
    tickets.c.id, tickets.c.status, tickets.c.channel, tickets.c.category, tickets.c.topic,
    tickets.c.supplier_id, tickets.c.department, tickets.c.customer_id, tickets.c.thread_key,
    tickets.c.confidence, tickets.c.closed_at, tickets.c.updated_at, tickets.c.sla,
    tickets.c.priority, tickets.c.bot_state,
)


def _head(row: Any) -> TicketHead:
    return TicketHead(*row)  # _HEAD_COLUMNS are in the order of TicketHead's fields


@dataclass(frozen=True, slots=True)
class JournalEntry:
    action: str
    reason: str
    actor: str = "switchboard"
    data: Mapping[str, Any] = field(default_factory=dict)


_MESSAGE_EXISTS = select(messages.c.id).where(
    messages.c.channel == bindparam("channel"),
    messages.c.external_id.in_([bindparam("external_id"), bindparam("erased")]))
_HEAD_BY_ID = FastSelect(select(*_HEAD_COLUMNS).where(tickets.c.id == bindparam("id")))
_TICKET_OF_MESSAGE = FastSelect(
    select(messages.c.ticket_id)
    .where(messages.c.channel == bindparam("channel"),
           messages.c.external_id == bindparam("external_id"))
    .order_by(messages.c.id.desc())
    .limit(1)
)
_BY_THREAD_KEY = FastSelect(select(*_HEAD_COLUMNS)
                            .where(tickets.c.thread_key == bindparam("key"))
                            .order_by(tickets.c.id.desc()).limit(1))
_OPEN_FOR_CUSTOMER_ALL = (
    select(*_HEAD_COLUMNS)
    .where(tickets.c.customer_id == bindparam("customer_id"),
           *(tickets.c.status != closed for closed in CLOSED_STATUSES),
           tickets.c.updated_at >= bindparam("since"))
    .order_by(tickets.c.updated_at.desc())
    .limit(1)
)
_OPEN_FOR_CUSTOMER = FastSelect(_OPEN_FOR_CUSTOMER_ALL)
_OPEN_FOR_CUSTOMER_ON = FastSelect(_OPEN_FOR_CUSTOMER_ALL.where(
    tickets.c.channel == bindparam("channel")))
_EXISTING = select(messages.c.channel, messages.c.external_id).where(
    messages.c.channel.in_(bindparam("channels", expanding=True)),
    messages.c.external_id.in_(bindparam("ids", expanding=True)))
_INSERT_TICKET = FastInsert(tickets, returning_id=True)
_INSERT_MESSAGE = FastInsert(messages, returning_id=True)
_INSERT_JOURNAL = FastInsert(journal)


def message_exists(conn: Connection, channel: str, external_id: str) -> bool:
    found = conn.execute(_MESSAGE_EXISTS, {"channel": channel, "external_id": external_id,
                                           "erased": erased_key(channel, external_id)})
    return found.first() is not None


def get_head(conn: Connection, ticket_id: int) -> TicketHead | None:
    row = _HEAD_BY_ID.first(conn, {"id": ticket_id})
    return None if row is None else _head(row)


def lock_head(conn: Connection, ticket_id: int) -> TicketHead | None:
    """The ticket's row, locked until the transaction ends (PostgreSQL; SQLite has one
    writer anyway): two workers joining messages to one ticket take turns, and the second
    sees what the first wrote."""
    row = conn.execute(select(*_HEAD_COLUMNS).where(tickets.c.id == ticket_id)
                       .with_for_update()).first()
    return _head(row) if row is not None else None


def ticket_of_message(conn: Connection, channel: str, external_ids: Sequence[str]) -> int | None:
    """The ticket holding the first of these platform message ids that has one (email
    threading by Message-ID: In-Reply-To first, then References from the newest)."""
    for external_id in external_ids:  # the most recent first; one indexed lookup each
        row = _TICKET_OF_MESSAGE.first(conn, {"channel": channel, "external_id": external_id})
        if row is not None:
            return int(row[0])
    return None


def latest_by_thread_key(conn: Connection, thread_key: str) -> TicketHead | None:
    row = _BY_THREAD_KEY.first(conn, {"key": thread_key})
    return None if row is None else _head(row)


def latest_open_for_customer(
    conn: Connection, customer_id: int, channel: str | None, since: datetime
) -> TicketHead | None:
    params: dict[str, Any] = {"customer_id": customer_id, "since": since}
    stmt = _OPEN_FOR_CUSTOMER
    if channel is not None:
        stmt, params["channel"] = _OPEN_FOR_CUSTOMER_ON, channel
    row = stmt.first(conn, params)
    return None if row is None else _head(row)


def merged_target_for_customer(conn: Connection, customer_id: int, channel: str,
                               since: datetime) -> TicketHead | None:
    """The open ticket that the customer's recent ticket on `channel` was merged into: their
    next message on that channel continues there, not in a new ticket."""
    source = tickets.alias("source")
    row = conn.execute(
        select(*_HEAD_COLUMNS).select_from(source.join(
            tickets, tickets.c.id == source.c.linked_ticket_id))
        .where(source.c.customer_id == customer_id, source.c.channel == channel,
               source.c.status == "closed", source.c.updated_at >= since,
               tickets.c.customer_id == customer_id,
               *(tickets.c.status != closed for closed in CLOSED_STATUSES))
        .order_by(source.c.updated_at.desc()).limit(1)).first()
    return None if row is None else _head(row)


def create_ticket(conn: Connection, values: Mapping[str, Any]) -> int:
    ticket_id = _INSERT_TICKET.one(conn, values)
    assert ticket_id is not None
    return ticket_id


_UPDATE_TICKET = FastUpdate(tickets)


class Increment:
    """A value for `update_ticket`: add this to the column (e.g. the SLA version)."""

    __slots__ = ("by",)

    def __init__(self, by: int = 1) -> None:
        self.by = by


def update_ticket(conn: Connection, ticket_id: int, values: Mapping[str, Any]) -> None:
    """On the cursor with SQL compiled once per set of columns (through Core an UPDATE costs
    more Python than the rest of a follow-up)."""
    if not values:
        return
    if any(isinstance(v, ClauseElement) for v in values.values()):  # other SQL: Core
        conn.execute(update(tickets).where(tickets.c.id == ticket_id).values(**values))
        return
    plain = {k: v for k, v in values.items() if not isinstance(v, Increment)}
    added = {k: v.by for k, v in values.items() if isinstance(v, Increment)}
    _UPDATE_TICKET.row(conn, ticket_id, plain, added)


def add_message(conn: Connection, values: Mapping[str, Any]) -> int:
    message_id = _INSERT_MESSAGE.one(conn, _searchable(values))
    assert message_id is not None
    return message_id


def add_messages(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Many messages in one statement (the pipeline writes a batch's together)."""
    _INSERT_MESSAGE.many(conn, [_searchable(r) for r in rows])


def _searchable(values: Mapping[str, Any]) -> Mapping[str, Any]:
    """With its folded copy, which the search index reads (in this same transaction).
    Our automatic messages (acknowledgements, surveys) are not searched: every ticket has
    one, and their words ("đã nhận được yêu cầu") would match everything."""
    if values.get("author_kind") == "system":
        return {**values, "folded": None}
    return {**values, "folded": search.folded(values.get("subject"), str(values["text"]))}


def journal_rows(ticket_id: int, at: datetime,
                 entries: Iterable[JournalEntry]) -> list[dict[str, object]]:
    return [{"ticket_id": ticket_id, "at": at, "actor": e.actor, "action": e.action,
             "reason": e.reason, "data": dict(e.data)} for e in entries]


def insert_journal(conn: Connection, rows: Sequence[Mapping[str, object]]) -> None:
    """Append journal rows (one statement for many: the pipeline writes a batch's at once)."""
    _INSERT_JOURNAL.many(conn, rows)


def append_journal(
    conn: Connection, ticket_id: int, at: datetime, entries: Iterable[JournalEntry]
) -> None:
    insert_journal(conn, journal_rows(ticket_id, at, entries))


def existing_messages(conn: Connection,
                      keys: Sequence[tuple[str, str]]) -> frozenset[tuple[str, str]]:
    """Which `(channel, external_id)` dedup keys already have a message: one query a batch.
    A message whose sender's data was erased keeps its key as a digest: looked up too."""
    if not keys:
        return frozenset()
    erased = {(c, erased_key(c, e)): (c, e) for c, e in keys}
    rows = conn.execute(_EXISTING, {"channels": sorted({k[0] for k in keys}),
                                    "ids": [k[1] for k in keys] + [k[1] for k in erased]}).all()
    wanted = set(keys)
    found = {(r.channel, r.external_id) for r in rows}
    return frozenset({k for k in found if k in wanted}
                     | {erased[k] for k in found if k in erased})
