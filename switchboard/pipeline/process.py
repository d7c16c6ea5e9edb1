"""The spine: one message into its ticket, one line per stage.

duplicate → robot → supplier's answer → identify → classify → thread → rate / open / join
→ journal → after-effects. Each stage is a function of its own module that returns what it
decided; this function only passes those decisions along. Alone (no `batch`), a message is
written at once; in a batch, its rows wait for the batch's multi-row INSERTs.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import Connection

from router import Classification, Classifier, Prepared
from router.model import Reading
from switchboard.pipeline import (
    aftermath,
    bot,
    identify,
    journal,
    rating,
    robots,
    supplier_answer,
)
from switchboard.pipeline.batch import Batch
from switchboard.pipeline.context import Context
from switchboard.pipeline.follow_up import join_ticket
from switchboard.pipeline.identify import Customer, Sender
from switchboard.pipeline.open_ticket import open_ticket
from switchboard.pipeline.outcome import Decision, Outcome
from switchboard.pipeline.threads import Thread
from switchboard.ticket_rules.classification import gather_context
from tickets import store
from tickets.messages import Channel, InboundMessage
from tickets.refs import format_ref


def process(ctx: Context, conn: Connection, message: InboundMessage, batch: Batch | None = None,
            processed: frozenset[tuple[str, str]] | None = None) -> Outcome:
    if _seen(conn, message, processed):
        return Outcome(message.channel.value, message.external_id, "duplicate")
    # a batch is one transaction and one moment: its messages share the batch's time (so
    # tickets opened together share their SLA arithmetic, see Keeper.initial)
    now = batch.now if batch is not None else ctx.clock.now()
    if robots.is_robot(message):
        return robots.record(ctx, conn, message, now)
    batch = batch or _alone(conn, message, now)
    classifier = ctx.classifiers.get(conn)
    sender = identify.sender_of(classifier, message)
    if sender.supplier_id is not None and message.channel is Channel.EMAIL:
        answered = supplier_answer.record(ctx, conn, message, sender.supplier_id, now)
        if answered is not None:
            return answered
    prepared, reading = batch.reading(classifier, message)
    who = identify.customer(conn, batch, message, sender, prepared, now)
    result = _classify(conn, classifier, prepared, reading, message, sender, who)
    thread = _thread(ctx, conn, batch, message, sender, who, now)
    decision = (rating.record(ctx, conn, thread, who.id, message, now)
                or _open_or_join(ctx, conn, message, who, sender, result, thread, now))
    decision = bot.turn(ctx, conn, message, who, sender, prepared, result, decision, now)
    _write(batch, message, sender, result, decision)
    aftermath.schedule(ctx, conn, batch, message, decision, now)
    return _outcome(ctx, message, decision)


def _seen(conn: Connection, message: InboundMessage,
          processed: frozenset[tuple[str, str]] | None) -> bool:
    """The dedup key `(channel, external_id)` is unique in `messages`: a replay is a no-op
    (a batch looked all its keys up at once)."""
    key = (message.channel.value, message.external_id)
    return key in processed if processed is not None else store.message_exists(conn, *key)


def _alone(conn: Connection, message: InboundMessage, now: datetime) -> Batch:
    batch = Batch(conn, now, deferred=False)
    batch.prepare([message])
    return batch


def _classify(conn: Connection, classifier: Classifier, prepared: Prepared,
              reading: Reading | None, message: InboundMessage, sender: Sender,
              who: Customer) -> Classification:
    context = gather_context(conn, prepared, message.channel.value, sender.supplier_id,
                             who.bought)
    return classifier.classify(prepared, context, reading)


def _thread(ctx: Context, conn: Connection, batch: Batch, message: InboundMessage,
            sender: Sender, who: Customer, now: datetime) -> Thread:
    thread = ctx.threader.find(conn, batch, message, who.id, sender.value, who.first_contact,
                               now)
    if thread.ticket is not None and conn.dialect.name == "postgresql":
        fresh = store.lock_head(conn, thread.ticket.id)  # one writer per ticket
        if fresh is not None:
            thread = dataclasses.replace(thread, ticket=fresh)
    return thread


def _open_or_join(ctx: Context, conn: Connection, message: InboundMessage, who: Customer,
                  sender: Sender, result: Classification, thread: Thread,
                  now: datetime) -> Decision:
    if thread.ticket is None:
        return open_ticket(ctx, conn, message, who, sender, result, thread, now)
    return join_ticket(ctx, conn, thread, result, who.entries, now)


def _write(batch: Batch, message: InboundMessage, sender: Sender, result: Classification,
           decision: Decision) -> None:
    """The message on its ticket, the email's participants, and the journal."""
    ticket_id = decision.ticket.id
    batch.add_message(journal.inbound_row(
        message, ticket_id, message.sender_name or message.sender, sender.author_kind,
        journal.message_meta(message, sender.value), journal.summary(result)))
    if message.channel is Channel.EMAIL:
        participants = [a for a in message.meta.get("participants", "").split(",") if a]
        batch.add_participants(ticket_id, [sender.value, *participants])
    batch.add_journal(ticket_id, decision.entries)


def _outcome(ctx: Context, message: InboundMessage, decision: Decision) -> Outcome:
    ticket = decision.ticket
    return Outcome(message.channel.value, message.external_id, decision.action, ticket.id,
                   format_ref(ctx.prefix, ticket.id), ticket.category, ticket.topic,
                   ticket.supplier_id, ticket.department)
