"""A supplier answering by email the hand-over or a message from the desk (the reference is
in the subject): kept on the complaint handed to them, for the desk only, as a note written
in the portal would be. Anything else a supplier mails is the supplier writing to the
marketplace (or following up their own request), which goes the usual way."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from switchboard.desk import slack_cards, supplier_actions
from switchboard.pipeline import journal
from switchboard.pipeline.batch import Batch
from switchboard.pipeline.context import Context
from switchboard.pipeline.outcome import Outcome
from tickets import store
from tickets.messages import InboundMessage
from tickets.refs import format_ref
from tickets.store import JournalEntry


def record(ctx: Context, conn: Connection, message: InboundMessage, supplier_id: str,
           now: datetime) -> Outcome | None:
    """The outcome when the mail answers a complaint handed to this supplier, else None."""
    hints = ctx.threader.hints(Batch(conn, now, deferred=False), message)
    for ticket_id, how, _quoted in hints:
        if supplier_actions.handed_to(conn, supplier_id, ticket_id):
            _note(ctx, conn, message, supplier_id, ticket_id, how, now)
            return Outcome(message.channel.value, message.external_id, "recorded",
                           ticket_id, format_ref(ctx.prefix, ticket_id))
    return None


def _note(ctx: Context, conn: Connection, message: InboundMessage, supplier_id: str,
          ticket_id: int, how: str, now: datetime) -> None:
    store.add_message(conn, journal.inbound_row(
        message, ticket_id, message.sender, "supplier",
        {**journal.message_meta(message, message.sender), "to_desk": "1"}))
    actor = f"{supplier_id} ({message.sender})"
    store.append_journal(conn, ticket_id, now, [JournalEntry(
        "supplier_note", f"by email ({how}): {message.text[:1000]}", actor=actor,
        data={"supplier_id": supplier_id})])
    store.update_ticket(conn, ticket_id, {"updated_at": now})
    slack_cards.supplier_wrote(conn, ctx.settings, ticket_id, actor, message.text, now)
