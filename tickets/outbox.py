"""The durable outbox: what must be sent, written in the same transaction as the ticket.

A dispatcher claims due rows (a lease, so a crashed sender's rows come back), sends them
outside any transaction, then records the result: `sent` with the platform's id, or a retry
with exponential back-off, or `failed` after the last attempt — visible on the ticket, never
silent. Sending is at-least-once: a crash between the platform's acceptance and `mark_sent`
sends again after the lease; platforms that take an idempotency key get the row id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from tickets.fastsql import FastInsert, FastSelect
from tickets.messages import OutboundMessage
from tickets.schema import outbox

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
CANCELLED = "cancelled"  # never to be sent: the recipient's personal data was erased


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    ticket_id: int | None  # None: a message about no one ticket (the daily digest)
    message_id: int | None
    kind: str
    attempts: int
    message: OutboundMessage


_ENQUEUE = FastInsert(outbox, returning_id=True)  # on the pipeline's hot path (acknowledgements)


def enqueue(conn: Connection, *, ticket_id: int | None, message: OutboundMessage, kind: str,
            now: datetime, message_id: int | None = None) -> int:
    new_id = _ENQUEUE.one(conn, {
        "ticket_id": ticket_id, "message_id": message_id, "channel": message.channel.value,
        "kind": kind, "recipient": message.recipient, "payload": message.to_dict(),
        "status": PENDING, "attempts": 0, "next_attempt_at": now, "claimed_until": None,
        "last_error": None, "external_id": None, "created_at": now, "sent_at": None})
    assert new_id is not None
    return new_id


def claim(conn: Connection, now: datetime, limit: int, lease: timedelta,
          channels: list[str] | None = None) -> list[OutboxItem]:
    """Due rows (pending, or sending with an expired lease), marked `sending` until
    `now + lease`. Call in its own short transaction."""
    stmt = (
        select(outbox.c.id, outbox.c.ticket_id, outbox.c.message_id, outbox.c.kind,
               outbox.c.attempts, outbox.c.payload, outbox.c.status, outbox.c.claimed_until)
        .where(((outbox.c.status == PENDING) & (outbox.c.next_attempt_at <= now))
               | ((outbox.c.status == SENDING) & (outbox.c.claimed_until <= now)))
        .order_by(outbox.c.next_attempt_at, outbox.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if channels is not None:
        stmt = stmt.where(outbox.c.channel.in_(channels))
    rows = conn.execute(stmt).all()
    if rows:
        conn.execute(update(outbox).where(outbox.c.id.in_([r.id for r in rows]))
                     .values(status=SENDING, claimed_until=now + lease,
                             attempts=outbox.c.attempts + 1))
    return [OutboxItem(r.id, r.ticket_id, r.message_id, r.kind, r.attempts + 1,
                       OutboundMessage.from_dict(r.payload)) for r in rows]


def mark_sent(conn: Connection, item_id: int, external_id: str | None, now: datetime) -> None:
    conn.execute(update(outbox).where(outbox.c.id == item_id).values(
        status=SENT, external_id=external_id, sent_at=now, claimed_until=None, last_error=None))


def mark_failed(conn: Connection, item_id: int, error: str, retry_at: datetime | None) -> None:
    """Retry at `retry_at`, or give up (`failed`) when it is None."""
    values: dict[str, Any] = {"last_error": error[:2000], "claimed_until": None}
    if retry_at is None:
        values["status"] = FAILED
    else:
        values.update(status=PENDING, next_attempt_at=retry_at)
    conn.execute(update(outbox).where(outbox.c.id == item_id).values(**values))


_SENT_RECENTLY = FastSelect(select(outbox.c.payload).where(
    outbox.c.channel == bindparam("channel"), outbox.c.recipient == bindparam("recipient"),
    outbox.c.kind == bindparam("kind"), outbox.c.created_at >= bindparam("since"),
    outbox.c.status != FAILED))


def sent_recently(conn: Connection, channel: str, recipient: str, kind: str,
                  since: datetime, subject: str | None = None) -> int:
    """How many `kind` messages went (or wait to go) to this recipient since `since` (about
    `subject`, compared with the `subject_key` the composer stored, when given). Asked for
    every automatic answer, so it runs straight on the cursor (tickets.fastsql)."""
    payloads = [row[0] for row in _SENT_RECENTLY.all(conn, {
        "channel": channel, "recipient": recipient, "kind": kind, "since": since})]
    if subject is None:
        return len(payloads)
    return sum(1 for p in payloads
               if ((p or {}).get("thread") or {}).get("subject_key") == subject)


@dataclass(frozen=True, slots=True)
class OutboxStats:
    pending: int
    failed: int
    oldest_pending: datetime | None


def stats(conn: Connection) -> OutboxStats:
    pending = conn.execute(select(func.count(), func.min(outbox.c.created_at))
                           .where(outbox.c.status.in_([PENDING, SENDING]))).one()
    failed = conn.execute(select(func.count()).where(outbox.c.status == FAILED)).scalar_one()
    return OutboxStats(int(pending[0]), int(failed), pending[1])
