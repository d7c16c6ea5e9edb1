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
from switchboard.pipeline import bot_replies
from switchboard.pipeline.batch import Batch
from switchboard.pipeline.bot import BotTurn
from switchboard.pipeline.context import Context
from switchboard.pipeline.outcome import Decision
from tickets.messages import InboundMessage

# journal actions of a follow-up that change what the ticket's Slack card shows
_CARD_CHANGES = frozenset({"status_changed", "classified", "routed", "supplier_identified",
                           "assigned"})


def schedule(ctx: Context, conn: Connection, batch: Batch, message: InboundMessage,
             decision: Decision, now: datetime) -> None:
    turn: BotTurn | None = decision.bot
    answered = turn is not None and turn.text is not None
    if (decision.action == "created" and ctx.acknowledge and not message.is_history
            and not answered):  # the bot's answer is the acknowledgement
        batch.after_messages(lambda: _acknowledge(ctx, conn, batch, message, decision, now))
    if any(e.action == "assigned" and "supplier_id" in e.data for e in decision.entries):
        ticket_id = decision.ticket.id
        batch.after_messages(lambda: _hand_over(ctx, conn, ticket_id, now))
    if ctx.agents_side:
        changed = any(e.action in _CARD_CHANGES for e in decision.entries)
        batch.after_messages(lambda: _tell_agents(ctx, conn, batch, message, decision,
                                                  changed, now))
    if turn is not None and (answered or turn.handover):  # after the card: its thread
        batch.after_messages(lambda: bot_replies.send(ctx, conn, batch, decision, now,
                                                      _opens_at(ctx, decision, now)))


def _acknowledge(ctx: Context, conn: Connection, batch: Batch, message: InboundMessage,
                 decision: Decision, now: datetime) -> None:
    ticket = decision.ticket
    entry = ctx.acknowledger.after_open(conn, ticket.id, ticket.department, message,
                                        message.sender_name, now,
                                        _opens_at(ctx, decision, now))
    if entry is not None:
        batch.add_journal(ticket.id, [entry])


def _opens_at(ctx: Context, decision: Decision, now: datetime) -> datetime | None:
    """When people next work on this ticket, if not now: its SLA policy's calendar (the
    department's hours and holidays)."""
    if not ctx.settings.bot.out_of_hours:
        return None
    names = [e.data.get("policy") for e in decision.entries if e.action == "sla"]
    policy = ctx.sla.by_name.get(str(names[-1])) if names else None
    if policy is None:
        return None
    opens = policy.calendar.next_working(now)
    return opens if opens > now else None


def _hand_over(ctx: Context, conn: Connection, ticket_id: int, now: datetime) -> None:
    supplier_mail.handed_over(conn, ctx.settings, ticket_id, now)


def _tell_agents(ctx: Context, conn: Connection, batch: Batch, message: InboundMessage,
                 decision: Decision, changed: bool, now: datetime) -> None:
    """A new ticket is offered round-robin and gets its Slack card; a follow-up appears
    in the ticket's thread (and refreshes the card when it changed the ticket)."""
    ticket, settings = decision.ticket, ctx.settings
    turn: BotTurn | None = decision.bot
    if decision.action == "created" or (turn is not None and turn.handover):
        if decision.action != "created":  # the bot's ticket, handed to people now
            slack_cards.customer_wrote(conn, settings, ticket.id, message.sender_name
                                       or message.sender, message.channel.value,
                                       message.text, now)
        if settings.agents and (turn is None or turn.text is None):
            entry = desk.offer(conn, settings, ticket.id, ticket.department, ticket.category,
                               now)
            if entry is not None:
                batch.add_journal(ticket.id, [entry])
        if decision.action == "created":
            slack_cards.post_card(conn, settings, ticket.id, ticket.category,
                                  ticket.department, now)
        else:
            slack_cards.refresh_card(conn, settings, ticket.id, now)
        return
    slack_cards.customer_wrote(conn, settings, ticket.id, message.sender_name or message.sender,
                               message.channel.value, message.text, now)
    if changed:
        slack_cards.refresh_card(conn, settings, ticket.id, now)
