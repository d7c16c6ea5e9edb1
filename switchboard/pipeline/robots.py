"""Mail no person wrote to us: auto-replies, bounces, and mail from one of our own
addresses (a colleague's forward from contact@ to hotro@, our own mail come back). Kept on
the ticket it concerns, never answered, never a new ticket: two robots answering each
other, or we answering ourselves, is a mail loop."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Connection

from switchboard.pipeline import journal
from switchboard.pipeline.batch import Batch
from switchboard.pipeline.context import Context
from switchboard.pipeline.outcome import Outcome
from switchboard.pipeline.threads import may_join
from tickets import customers, store
from tickets.identities import sender_identity
from tickets.messages import InboundMessage
from tickets.refs import format_ref
from tickets.store import JournalEntry

log = logging.getLogger("switchboard.pipeline")


def is_robot(message: InboundMessage) -> bool:
    """What the email connector marked: `auto` (auto-reply, bounce) or `own` (our address)."""
    return bool(message.meta.get("own") or message.meta.get("auto"))


def record(ctx: Context, conn: Connection, message: InboundMessage, now: datetime) -> Outcome:
    channel = message.channel.value
    kind = message.meta.get("auto") or "own-mail"
    ticket_id = _concerned(ctx, conn, message, now)
    if ticket_id is None:
        log.info("%s %s (%s from %s) concerns no ticket of ours: ignored (no mail loops)",
                 channel, message.external_id, kind, message.sender)
        return Outcome(channel, message.external_id, "ignored")
    store.add_message(conn, journal.inbound_row(
        message, ticket_id, message.sender, "system",
        journal.message_meta(message, message.sender)))
    store.append_journal(conn, ticket_id, now, [JournalEntry(kind, _reason(kind, message))])
    return Outcome(channel, message.external_id, "recorded", ticket_id,
                   format_ref(ctx.prefix, ticket_id))


def _concerned(ctx: Context, conn: Connection, message: InboundMessage,
               now: datetime) -> int | None:
    """The ticket the robot's mail is about, by the same evidence a person's reply gives
    (a provider may have rewritten our Message-ID, leaving the reference in the subject).
    Our Message-IDs and tokens cannot be guessed, so whoever holds one may be recorded (a
    bounce comes from a mailer daemon); a reference anyone can type counts only from our
    own addresses or from the ticket's customer or participants."""
    batch = Batch(conn, now, deferred=False)
    id_kind, address = sender_identity(message.channel.value, message.sender)
    for candidate, _how, quoted in ctx.threader.hints(batch, message):
        head = store.get_head(conn, candidate)
        if head is not None and (not quoted or message.meta.get("own") or may_join(
                batch, head, customers.find_by_identity(conn, id_kind, address), address)):
            return candidate
    return None


def _reason(kind: str, message: InboundMessage) -> str:
    if kind == "bounce":
        bounced = message.meta.get("bounced_message_id")
        return (f"delivery of {bounced or 'our message'} failed (bounce from "
                f"{message.sender}); not answered")
    if kind == "own-mail":
        return f"mail from our own address {message.sender} recorded; not answered"
    return f"automatic reply from {message.sender} recorded; not answered"
