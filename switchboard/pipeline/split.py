"""Splitting a message out of its ticket into a new one: a customer who raised a second,
unrelated matter in the same conversation ("…and my refund for the other order?").

The message goes through the spine's own stages as if it had just arrived (identify,
classify, route, SLA, the hand-over to a supplier, the Slack card), so the new ticket is
classified and routed afresh and its clocks start now; it is taken as history, so the
customer receives no second acknowledgement. The message row itself moves (nothing is
copied, nothing lost); both tickets point to each other (`linked_ticket_id` on the new one,
the journal of both) and both journals say who split what.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select, update

from switchboard.pipeline import aftermath, identify
from switchboard.pipeline.batch import Batch
from switchboard.pipeline.context import Context
from switchboard.pipeline.open_ticket import open_ticket
from switchboard.pipeline.threads import Thread
from switchboard.ticket_rules.classification import gather_context
from tickets import store
from tickets.messages import Attachment, Channel, InboundMessage
from tickets.refs import format_ref
from tickets.schema import messages
from tickets.store import JournalEntry


class SplitRefused(Exception):
    """A split that cannot be done, with the reason for the person who asked."""


def split(ctx: Context, conn: Connection, message_id: int, actor: str) -> int:
    """Move message `message_id` into a new ticket (in the caller's transaction); its id."""
    now = ctx.clock.now()
    row = conn.execute(select(messages).where(messages.c.id == message_id)).first()
    if row is None:
        raise SplitRefused(f"no message {message_id}")
    source = store.lock_head(conn, int(row.ticket_id))
    assert source is not None
    source_ref = format_ref(ctx.prefix, source.id)
    if row.direction != "in":
        raise SplitRefused("only a message someone wrote to us can be split out")
    inbound = conn.execute(select(func.count()).where(
        messages.c.ticket_id == source.id, messages.c.direction == "in")).scalar_one()
    if inbound < 2:
        raise SplitRefused(f"it is {source_ref}'s only message: nothing to split it from")
    message = _as_arrived(row).as_history()  # no second acknowledgement
    batch = Batch(conn, now, deferred=False)
    batch.prepare([message])
    classifier = ctx.classifiers.get(conn)
    sender = identify.sender_of(classifier, message)
    prepared = classifier.prepare(message.text, message.subject)
    who = identify.customer(conn, batch, message, sender, prepared, now)
    result = classifier.classify(prepared, gather_context(
        conn, prepared, message.channel.value, sender.supplier_id, who.bought))
    decision = open_ticket(ctx, conn, message, who, sender, result, Thread(
        None, f"split out of {source_ref} by {actor}", linked_to=source.id), now)
    new_id = decision.ticket.id
    new_ref = format_ref(ctx.prefix, new_id)
    conn.execute(update(messages).where(messages.c.id == message_id).values(ticket_id=new_id))
    batch.add_journal(new_id, decision.entries)
    batch.add_journal(source.id, [JournalEntry(
        "split", f"{actor} split message {message_id} out into {new_ref}", actor=actor,
        data={"message_id": message_id, "ticket": new_id})])
    store.update_ticket(conn, source.id, {"updated_at": now})
    aftermath.schedule(ctx, conn, batch, message, decision, now)
    return new_id


def _as_arrived(row: Any) -> InboundMessage:
    """The stored message as the pipeline first saw it."""
    meta = dict(row.meta or {})
    return InboundMessage(
        channel=Channel(row.channel), external_id=str(row.external_id),
        sender=str(meta.get("from") or row.author), text=str(row.text),
        received_at=row.created_at, subject=row.subject, recipient=meta.get("recipient"),
        attachments=tuple(Attachment.from_dict(a) for a in row.attachments or []),
        meta={k: str(v) for k, v in meta.items() if k not in ("from", "recipient")})
