"""Automatic emails to staff and suppliers (SLA reminders, hand-overs, the desk's messages):
written to the outbox in the caller's transaction, so a crash never loses one and a retry
never doubles one. They go from the first configured mailbox and carry
`Auto-Submitted: auto-generated` (our sender marks automatic mail), so no autoresponder
answers them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from switchboard.settings import Settings
from tickets import outbox
from tickets.messages import Channel, OutboundMessage
from tickets.refs import format_ref


def email_notice(conn: Connection, settings: Settings, ticket_id: int, to: str, subject: str,
                 text: str, kind: str, now: datetime) -> bool:
    """False when no mailbox is configured to send from (nothing is queued)."""
    mailboxes = settings.email.mailboxes
    if not mailboxes or not to:
        return False
    message = OutboundMessage(
        Channel.EMAIL, to, text, format_ref(settings.tickets.ref_prefix, ticket_id),
        subject=subject, automatic=True,
        thread={"from_address": mailboxes[0].address, "from_name": mailboxes[0].name})
    outbox.enqueue(conn, ticket_id=ticket_id, message=message, kind=kind, now=now)
    return True
