"""The answer to the satisfaction question: a bare 1..5 from a customer whose resolved
ticket asked how satisfied they are. Kept on that ticket, which it does not reopen."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from switchboard.desk import survey
from switchboard.pipeline.context import Context
from switchboard.pipeline.outcome import Decision, TicketView
from switchboard.pipeline.threads import Thread
from tickets import store
from tickets.messages import InboundMessage
from tickets.store import CLOSED_STATUSES


def record(ctx: Context, conn: Connection, thread: Thread, customer_id: int,
           message: InboundMessage, now: datetime) -> Decision | None:
    """The decision when the message is a rating that was asked for, else None."""
    if survey.rating_in(message.text) is None:
        return None
    asked = survey.awaiting(conn, ctx.settings, customer_id, now)
    if asked is None or (thread.ticket is not None and thread.ticket.id != asked
                         and thread.ticket.status not in CLOSED_STATUSES):
        return None
    if not survey.record_answer(conn, ctx.settings, asked, message.text, now):
        return None
    head = store.get_head(conn, asked)
    assert head is not None
    return Decision("rated", TicketView(head.id, head.category, head.topic, head.supplier_id,
                                        head.department))
