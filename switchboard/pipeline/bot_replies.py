"""What the bot says, sent like any answer: composed for the ticket's channel, written as
the ticket's message and the outbox's row in the batch's transaction, journaled with the
knowledge entry or the order it came from (so a manager can see and replay what the bot
said), and echoed in the ticket's Slack thread. A bot's answer is automatic: it counts as
an answer for the customer but never as a person's first response."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from switchboard.desk import slack_cards
from switchboard.outbox.compose import CannotReply, compose_reply, record_outbound
from switchboard.pipeline.batch import Batch
from switchboard.pipeline.bot import BotTurn, handover_text, journal_of
from switchboard.pipeline.context import Context
from switchboard.pipeline.outcome import Decision
from tickets.store import JournalEntry


def send(ctx: Context, conn: Connection, batch: Batch, decision: Decision, now: datetime,
         opens_at: datetime | None) -> None:
    turn: BotTurn = decision.bot
    ticket = decision.ticket
    if turn.text is not None:
        text, kind = turn.text, "bot"
    else:  # handed to people: the customer is told a person will answer, and when
        text = handover_text(ctx, ticket.id, ticket.department, turn.lang, opens_at)
        kind = "handover"
    try:
        message = compose_reply(conn, ctx.settings, ctx.acknowledger.secret, ticket.id, text,
                                now=now, automatic=True)
    except CannotReply as exc:
        batch.add_journal(ticket.id, [JournalEntry(
            "bot_unsent", f"the bot's {kind} message could not be sent: {exc}", actor="bot")])
        return
    _, outbox_id = record_outbound(conn, ticket_id=ticket.id, message=message, kind=kind,
                                   author="bot", now=now)
    if turn.text is not None:
        batch.add_journal(ticket.id, [journal_of(turn, outbox_id)])
    slack_cards.to_thread(conn, ctx.settings, ticket.id,
                          f"🤖 bot → khách / customer:\n{text[:2800]}", now)
