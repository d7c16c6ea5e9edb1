"""What a decision causes once every message of the batch is written: the acknowledgement
to the customer, the hand-over email to a supplier, and the agents' side (round-robin offer,
the Slack card, a follow-up in the card's thread). Each is scheduled on the batch, runs in
the batch's transaction (so it is written with the ticket or not at all) and journals what
it did."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from switchboard.desk import actions as desk
from switchboard.desk import slack_cards, supplier_mail
from switchboard.pipeline.batch import Batch
from switchboard.pipeline.context import Context
from switchboard.pipeline.outcome import Decision
from tickets.messages import InboundMessage

# journal actions of a follow-up that change what the ticket's Slack card shows
_CARD_CHANGES = frozenset({"status_changed", "classified", "routed", "supplier_identified",
                           "assigned"})


def schedule(ctx: Context, conn: Connection, batch: Batch, message: InboundMessage,
             decision: Decision, now: datetime) -> None:
    if decision.action == "created" and ctx.acknowledge and not message.is_history:
        batch.after_messages(lambda: _acknowledge(ctx, conn, batch, message, decision, now))
    if any(e.action == "assigned" and "supplier_id" in e.data for e in decision.entries):
        ticket_id = decision.ticket.id
        batch.after_messages(lambda: _hand_over(ctx, conn, ticket_id, now))
    if ctx.agents_side:
        changed = any(e.action in _CARD_CHANGES for e in decision.entries)
        batch.after_messages(lambda: _tell_agents(ctx, conn, batch, message, decision,
                                                  changed, now))


def _acknowledge(ctx: Context, conn: Connection, batch: Batch, message: InboundMessage,
                 decision: Decision, now: datetime) -> None:
    ticket = decision.ticket
    entry = ctx.acknowledger.after_open(conn, ticket.id, ticket.department, message,
                                        message.sender_name, now)
    if entry is not None:
        batch.add_journal(ticket.id, [entry])


def _hand_over(ctx: Context, conn: Connection, ticket_id: int, now: datetime) -> None:
    supplier_mail.handed_over(conn, ctx.settings, ticket_id, now)


def _tell_agents(ctx: Context, conn: Connection, batch: Batch, message: InboundMessage,
                 decision: Decision, changed: bool, now: datetime) -> None:
    """A new ticket is offered round-robin and gets its Slack card; a follow-up appears
    in the ticket's thread (and refreshes the card when it changed the ticket)."""
    ticket, settings = decision.ticket, ctx.settings
    if decision.action == "created":
        if settings.agents:
            entry = desk.offer(conn, settings, ticket.id, ticket.department, ticket.category,
                               now)
            if entry is not None:
                batch.add_journal(ticket.id, [entry])
        slack_cards.post_card(conn, settings, ticket.id, ticket.category, ticket.department,
                              now)
        return
    slack_cards.customer_wrote(conn, settings, ticket.id, message.sender_name or message.sender,
                               message.channel.value, message.text, now)
    if changed:
        slack_cards.refresh_card(conn, settings, ticket.id, now)
