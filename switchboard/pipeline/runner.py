"""The pipeline: an inbox item becomes part of a ticket, in one transaction.

dedup → identify the customer → classify → thread → route → journal, then the inbox row is
deleted in the same transaction (DESIGN invariant 1). A failing message is rolled back to
its savepoint, counted, and retried later (dead-lettered after `max_attempts`); the rest of
the batch still commits. The dedup key `(channel, external_id)` is unique in `messages`, so
a replay is a no-op even if two workers raced on it.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from connectors.slack import blocks
from router import Classification, Prepared, route
from switchboard.desk import actions as desk
from switchboard.desk import slack_cards, supplier_actions, supplier_mail, survey
from switchboard.outbox.templates import Templates
from switchboard.pipeline.acknowledge import Acknowledger
from switchboard.pipeline.batch import Batch
from switchboard.pipeline.threads import Thread, Threader, may_join
from switchboard.settings import Settings
from switchboard.ticket_rules.classification import (
    ClassifierCache,
    gather_context,
    routing_table,
    sender_supplier,
)
from switchboard.ticket_rules.sla_keeper import keeper_for
from tickets import customers, inbox, store
from tickets.catalog import orders_for_contacts
from tickets.clock import Clock
from tickets.customers import Merge, Tier, tier_for
from tickets.database import Database
from tickets.identities import IdentityKind, sender_identity
from tickets.messages import InboundMessage
from tickets.refs import format_ref
from tickets.store import CLOSED_STATUSES, JournalEntry

# journal actions of a follow-up that change what the ticket's Slack card shows
_CARD_CHANGES = frozenset({"status_changed", "classified", "routed", "supplier_identified",
                           "assigned"})

log = logging.getLogger("switchboard.pipeline.runner")

if TYPE_CHECKING:
    from switchboard.intake.redis_inbox import RedisInbox


@dataclass(frozen=True, slots=True)
class Outcome:
    channel: str
    external_id: str
    action: str  # created | joined | rated | duplicate | failed | dead
    ticket_id: int | None = None
    ref: str | None = None
    category: str | None = None
    topic: str | None = None
    supplier_id: str | None = None
    department: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class _Given:
    """A message handed to `run_messages`, shaped like an inbox item for `_apply`."""
    message: InboundMessage
    id: str = "given"


@dataclass(frozen=True, slots=True)
class _Ticket:
    id: int
    category: str
    topic: str | None
    supplier_id: str | None
    department: str


class Pipeline:
    def __init__(self, settings: Settings, db: Database, clock: Clock,
                 classifiers: ClassifierCache | None = None, secret: bytes = b"",
                 templates: Templates | None = None, acknowledge: bool = True) -> None:
        """`acknowledge=False` for imports of old mail: history gets no "we received it"."""
        self.settings = settings
        self.db = db
        self.clock = clock
        self.classifiers = classifiers or ClassifierCache(settings)
        self.routing = routing_table(settings)
        self.prefix = settings.tickets.ref_prefix
        self.threader = Threader(settings, secret)
        self.acknowledger = Acknowledger(settings, secret, templates or Templates())
        self.acknowledge = acknowledge
        self.agents_side = settings.slack.enabled or bool(settings.agents)
        self.sla = keeper_for(settings)
        self.queue: RedisInbox | None = None  # set when the inbox is Redis Streams
        self.tiers = [Tier(t.name, t.min_spend) for t in settings.customers.tiers]
        self._held: set[tuple[str, str]] = set()  # senders with a message left for retry

    def warm_up(self) -> None:
        """Build what the first batch would otherwise build while it waits (the classifier
        from the catalog, the SLA calendars): for callers with idle time before it."""
        with self.db.read() as conn:
            self.classifiers.get(conn)
        self.sla.warm_up(self.clock.now())

    def run_batch(self, limit: int | None = None) -> list[Outcome]:
        """Claim up to `limit` inbox items and process them; [] when the inbox is empty.

        The batch first runs in one savepoint with its lookups and writes shared (see
        `switchboard.pipeline.batch`). If any message fails, that savepoint is rolled back and the
        batch is replayed one message at a time, each in its own savepoint, so the failing
        one is counted and retried later while the rest commit.
        """
        limit = limit or self.settings.worker.batch_size
        if self.queue is not None:
            return self._run_stream_batch(limit)
        with self.db.write() as conn:
            items = inbox.claim(conn, limit)
            if not items:
                return []

            def fail(item: Any, error: str) -> bool:
                return inbox.fail(conn, item.id, error, self.settings.worker.max_attempts)

            outcomes = self._apply(conn, items, fail)
            inbox.ack(conn, [item.id for item, outcome in zip(items, outcomes, strict=True)
                             if outcome.action not in ("failed", "dead")])
        return outcomes

    def run_messages(self, messages: Sequence[InboundMessage]) -> list[Outcome]:
        """Process messages whose durable copy is elsewhere (the files of an import), in
        batches, without the inbox's write, read and delete. What fails is put in the inbox
        before the batch commits, for the worker to retry and dead-letter as any message,
        marked so that the worker does not acknowledge it when this pipeline would not. A
        sender with a message waiting there has their later messages queued behind it, so
        their order holds across batches and calls."""
        outcomes: list[Outcome] = []
        size = self.settings.worker.batch_size
        for start in range(0, len(messages), size):
            chunk = messages[start:start + size]
            held = [(m.channel.value, m.sender) in self._held for m in chunk]
            with self.db.write() as conn:
                applied = iter(self._apply(
                    conn, [_Given(m) for m, h in zip(chunk, held, strict=True) if not h],
                    lambda _item, _e: False))
                finished = [Outcome(m.channel.value, m.external_id, "failed",
                                    error="waits in the inbox behind an earlier message of "
                                          "its sender") if h else next(applied)
                            for m, h in zip(chunk, held, strict=True)]
                failed = [m for m, o in zip(chunk, finished, strict=True)
                          if o.action == "failed"]
                self._held.update((m.channel.value, m.sender) for m in failed)
                if not self.acknowledge:  # history stays unacknowledged when retried too
                    failed = [m.as_history() for m in failed]
                if failed and self.queue is None:
                    inbox.put_many(conn, failed, self.clock.now())
                elif failed and self.queue is not None:
                    # before the commit: if that fails, the retry finds them done (dedup)
                    self.queue.put_many(failed)
            outcomes.extend(finished)
        return outcomes

    def _run_stream_batch(self, limit: int) -> list[Outcome]:
        """The Redis Streams inbox: claimed outside the transaction, acknowledged after
        it committed (a crash in between replays entries the store then finds done)."""
        assert self.queue is not None
        items = self.queue.claim(limit)
        if not items:
            return []
        max_attempts = self.settings.worker.max_attempts

        def fail(item: Any, error: str) -> bool:
            return bool(item.attempts >= max_attempts)

        stop = threading.Event()
        keeper = threading.Thread(target=self._keep_leases, args=(stop,), daemon=True)
        keeper.start()
        try:
            with self.db.write() as conn:
                outcomes = self._apply(conn, items, fail)
        finally:
            stop.set()
            keeper.join()
        pairs = list(zip(items, outcomes, strict=True))
        self.queue.done([i for i, o in pairs if o.action not in ("failed", "dead")],
                        [(i, o.error or "") for i, o in pairs if o.action == "dead"],
                        [i for i, o in pairs if o.action == "failed"])
        return outcomes

    def _keep_leases(self, stop: threading.Event) -> None:
        """A batch longer than the lease must not let another worker take its partitions
        (and its entries) meanwhile."""
        assert self.queue is not None
        every = max(0.5, self.settings.queue.lease.total_seconds() / 3)
        while not stop.wait(every):
            try:
                self.queue.renew()
            except Exception:
                log.warning("could not renew the partition leases", exc_info=True)

    def _apply(self, conn: Connection, items: Sequence[Any],
               fail: Callable[[Any, str], bool]) -> list[Outcome]:
        messages = [item.message for item in items]
        processed = store.existing_messages(
            conn, [(m.channel.value, m.external_id) for m in messages])
        try:
            with conn.begin_nested():
                batch = Batch(conn, self.clock.now())
                batch.prepare([m for m in messages
                               if (m.channel.value, m.external_id) not in processed])
                outcomes = [self.process(conn, m, batch, processed) for m in messages]
                batch.flush()
        except Exception:
            log.warning("a message in a batch of %d failed; isolating it", len(items))
            outcomes = []
            held_back: set[tuple[str, str]] = set()
            for item in items:
                m = item.message
                sender = (m.channel.value, m.sender)
                if sender in held_back:  # its earlier message failed: keep their order
                    outcomes.append(Outcome(m.channel.value, m.external_id, "failed",
                                            error="waits for an earlier message of its "
                                                  "sender"))
                    continue
                outcome = self._isolated(conn, item, fail)
                if outcome.action in ("failed", "dead"):
                    held_back.add(sender)
                outcomes.append(outcome)
        return outcomes

    def _isolated(self, conn: Connection, item: Any, fail: Callable[[Any, str], bool]
                  ) -> Outcome:
        message = item.message
        savepoint = conn.begin_nested()
        try:
            outcome = self.process(conn, message)
            savepoint.commit()
        except Exception as exc:
            savepoint.rollback()
            channel = message.channel.value
            if isinstance(exc, IntegrityError) and store.message_exists(
                    conn, channel, message.external_id):
                return Outcome(channel, message.external_id, "duplicate")
            error = f"{type(exc).__name__}: {exc}"
            dead = fail(item, error)
            log.exception("inbox item %s (%s %s) failed%s", getattr(item, "id", None) or
                          getattr(item, "entry_id", "?"), channel,
                          message.external_id, "; dead-lettered" if dead else "; will retry")
            return Outcome(channel, message.external_id, "dead" if dead else "failed",
                           error=error)
        return outcome

    def process(self, conn: Connection, message: InboundMessage, batch: Batch | None = None,
                processed: frozenset[tuple[str, str]] | None = None) -> Outcome:
        """One message into its ticket. Alone (no `batch`), it writes everything at once."""
        channel = message.channel.value
        key = (channel, message.external_id)
        if (key in processed) if processed is not None else store.message_exists(conn, *key):
            return Outcome(channel, message.external_id, "duplicate")
        now = self.clock.now()
        if message.meta.get("own") or message.meta.get("auto"):
            return self._robot(conn, message, now)
        if batch is None:
            batch = Batch(conn, now, deferred=False)
            batch.prepare([message])
        classifier = self.classifiers.get(conn)
        kind, value = sender_identity(channel, message.sender)
        supplier_id = sender_supplier(classifier, kind, value, message.meta.get("from_address"))
        if supplier_id is not None and channel == "email":
            answered = self._supplier_answer(conn, message, supplier_id, now)
            if answered is not None:
                return answered
        if channel == "portal" and message.meta.get("supplier_id"):
            # the portal wrote it for a logged-in supplier user (no other intake can use
            # this channel): the supplier speaking, whatever the catalog's contacts say
            supplier_id = str(message.meta["supplier_id"])
        resolved = batch.customer((kind, value))
        assert resolved is not None, "Batch.prepare resolves every sender"
        customer_id, first_contact = resolved
        prepared = classifier.prepare(message.text, message.subject)
        journal: list[JournalEntry] = [self._identified(conn, customer_id, first_contact, kind,
                                                        value, supplier_id, message, now)]
        mentions = prepared.entities.phones or prepared.entities.emails
        if mentions and message.meta.get("no_reply"):
            # a no-reply mailer carries many people's addresses: they are not its own
            journal.append(JournalEntry("identified", f"{message.sender} is a no-reply "
                                        "address: the phones and emails in the text are not "
                                        "linked to it"))
            mentions = ()
        if supplier_id is None and mentions:
            linked = self._link_identities(conn, customer_id, prepared, now, journal, batch)
            first_contact = first_contact and linked == customer_id
            customer_id = linked
        if first_contact and not mentions:  # the sender is the only identity: prefetched
            bought = batch.orders_of([value])
        else:
            bought = orders_for_contacts(conn, *customers.contacts_of(conn, customer_id))
        context = gather_context(conn, prepared, channel, supplier_id, bought)
        result = classifier.classify(prepared, context)
        thread = self.threader.find(conn, batch, message, customer_id, value, first_contact,
                                    now)
        if thread.ticket is not None and conn.dialect.name == "postgresql":
            fresh = store.lock_head(conn, thread.ticket.id)  # one writer per ticket
            if fresh is not None:
                thread = dataclasses.replace(thread, ticket=fresh)
        sender_kind = "supplier" if supplier_id else "customer"
        rated = self._rating(conn, thread, customer_id, message, now)
        if rated is not None:  # the answer to the satisfaction question: kept, not reopened
            ticket = rated
            journal.clear()
            action = "rated"
        elif thread.ticket is None:
            tier = tier_for(sum(o.amount for o in bought), self.tiers)
            ticket = self._open(conn, message, customer_id, sender_kind, result, thread, now,
                                journal, tier)
            action = "created"
        else:
            ticket = self._join(conn, thread, result, now, journal)
            action = "joined"
        batch.add_message(_inbound_row(message, ticket.id, message.sender_name or message.sender,
                                       sender_kind, _message_meta(message, value),
                                       _summary(result)))
        if channel == "email":
            participants = [a for a in message.meta.get("participants", "").split(",") if a]
            batch.add_participants(ticket.id, [value, *participants])
        batch.add_journal(ticket.id, journal)
        if action == "created" and self.acknowledge and not message.is_history:
            def acknowledge() -> None:
                entry = self.acknowledger.after_open(
                    conn, ticket.id, ticket.department, message, message.sender_name, now)
                if entry is not None:
                    batch.add_journal(ticket.id, [entry])

            batch.after_messages(acknowledge)
        if any(e.action == "assigned" and "supplier_id" in e.data for e in journal):
            def hand_over() -> None:
                supplier_mail.handed_over(conn, self.settings, ticket.id, now)

            batch.after_messages(hand_over)
        if self.agents_side:
            changed = any(e.action in _CARD_CHANGES for e in journal)
            batch.after_messages(lambda: self._tell_agents(
                conn, batch, action, ticket, message, changed, now))
        return Outcome(channel, message.external_id, action, ticket.id,
                       format_ref(self.prefix, ticket.id), ticket.category, ticket.topic,
                       ticket.supplier_id, ticket.department)

    def _rating(self, conn: Connection, thread: Thread, customer_id: int,
                message: InboundMessage, now: datetime) -> _Ticket | None:
        """A bare 1..5 from a customer whose resolved ticket asked how satisfied they are."""
        if survey.rating_in(message.text) is None:
            return None
        asked = survey.awaiting(conn, self.settings, customer_id, now)
        if asked is None or (thread.ticket is not None and thread.ticket.id != asked
                             and thread.ticket.status not in CLOSED_STATUSES):
            return None
        if not survey.record_answer(conn, self.settings, asked, message.text, now):
            return None
        head = store.get_head(conn, asked)
        assert head is not None
        return _Ticket(head.id, head.category, head.topic, head.supplier_id, head.department)

    def _tell_agents(self, conn: Connection, batch: Batch, action: str, ticket: _Ticket,
                     message: InboundMessage, changed: bool, now: datetime) -> None:
        """A new ticket is offered round-robin and gets its Slack card; a follow-up appears
        in the ticket's thread (and refreshes the card when it changed the ticket)."""
        if action == "created":
            if self.settings.agents:
                entry = desk.offer(conn, self.settings, ticket.id, ticket.department,
                                   ticket.category, now)
                if entry is not None:
                    batch.add_journal(ticket.id, [entry])
            slack_cards.post_card(conn, self.settings, ticket.id, ticket.category,
                                   ticket.department, now)
            return
        slack_cards.to_thread(conn, self.settings, ticket.id, blocks.customer_message(
            message.sender_name or message.sender, message.channel.value, message.text), now)
        if changed:
            slack_cards.refresh_card(conn, self.settings, ticket.id, now)

    def _robot(self, conn: Connection, message: InboundMessage, now: datetime) -> Outcome:
        """An auto-reply, a bounce or mail from one of our own addresses (a colleague's
        forward from contact@ to hotro@, our own mail come back): kept on the ticket it
        concerns, never answered, never a new ticket (two robots answering each other, or
        we answering ourselves, is a mail loop)."""
        channel = message.channel.value
        kind = message.meta.get("auto") or "own-mail"
        # the same evidence a person's reply gives (a provider may have rewritten our
        # Message-ID, leaving the reference in the subject). Our Message-IDs and tokens
        # cannot be guessed, so whoever holds one may be recorded (a bounce comes from a
        # mailer daemon); a reference anyone can type counts only from our own addresses
        # or from the ticket's customer or participants
        batch = Batch(conn, now, deferred=False)
        id_kind, address = sender_identity(channel, message.sender)
        ticket_id = None
        for candidate, _how, quoted in self.threader.hints(batch, message):
            head = store.get_head(conn, candidate)
            if head is not None and (not quoted or message.meta.get("own") or may_join(
                    batch, head, customers.find_by_identity(conn, id_kind, address), address)):
                ticket_id = candidate
                break
        if ticket_id is None:
            log.info("%s %s (%s from %s) concerns no ticket of ours: ignored (no mail loops)",
                     channel, message.external_id, kind, message.sender)
            return Outcome(channel, message.external_id, "ignored")
        bounced = message.meta.get("bounced_message_id")
        store.add_message(conn, _inbound_row(message, ticket_id, message.sender, "system",
                                             _message_meta(message, message.sender)))
        reason = (f"delivery of {bounced or 'our message'} failed (bounce from "
                  f"{message.sender}); not answered" if kind == "bounce"
                  else f"mail from our own address {message.sender} recorded; not answered"
                  if kind == "own-mail"
                  else f"automatic reply from {message.sender} recorded; not answered")
        store.append_journal(conn, ticket_id, now, [JournalEntry(kind, reason)])
        return Outcome(channel, message.external_id, "recorded", ticket_id,
                       format_ref(self.prefix, ticket_id))

    def _supplier_answer(self, conn: Connection, message: InboundMessage, supplier_id: str,
                         now: datetime) -> Outcome | None:
        """A supplier answering by email the hand-over or a message from the desk (the
        reference is in the subject): on the complaint handed to them, to the desk only, as
        a note written in the portal would be. None when it concerns no complaint handed to
        them: then it is the supplier writing to the marketplace (or following up their own
        request), which goes the usual way."""
        channel = message.channel.value
        for ticket_id, how, _quoted in self.threader.hints(Batch(conn, now, deferred=False),
                                                           message):
            if not supplier_actions.handed_to(conn, supplier_id, ticket_id):
                continue
            store.add_message(conn, _inbound_row(
                message, ticket_id, message.sender, "supplier",
                {**_message_meta(message, message.sender), "to_desk": "1"}))
            actor = f"{supplier_id} ({message.sender})"
            store.append_journal(conn, ticket_id, now, [JournalEntry(
                "supplier_note", f"by email ({how}): {message.text[:1000]}", actor=actor,
                data={"supplier_id": supplier_id})])
            store.update_ticket(conn, ticket_id, {"updated_at": now})
            slack_cards.to_thread(conn, self.settings, ticket_id,
                                   f"🏪 NCC *{actor}* qua email (nội bộ / internal):\n"
                                   f"{message.text[:2800]}", now)
            return Outcome(channel, message.external_id, "recorded", ticket_id,
                           format_ref(self.prefix, ticket_id))
        return None

    def _identified(self, conn: Connection, customer_id: int, new: bool, kind: str, value: str,
                    supplier_id: str | None, message: InboundMessage,
                    now: datetime) -> JournalEntry:
        if supplier_id:
            return JournalEntry("identified", f"sender {kind} {value} is a registered contact "
                                f"of supplier {supplier_id}: the supplier is speaking",
                                data={"customer_id": customer_id, "supplier_id": supplier_id})
        if new:
            reason = f"new customer #{customer_id} ({kind} {value})"
            if message.sender_name:
                similar = customers.suggest_by_name(conn, customer_id, message.sender_name, now)
                if similar:
                    reason += (f"; same name as customer(s) {', '.join(f'#{c}' for c in similar)}"
                               ": suggested for a merge, not merged")
            return JournalEntry("identified", reason, data={"customer_id": customer_id,
                                                            "new": True})
        return JournalEntry("identified", f"returning customer #{customer_id} ({kind} {value})",
                            data={"customer_id": customer_id, "new": False})

    def _link_identities(self, conn: Connection, customer_id: int, prepared: Prepared,
                         now: datetime, journal: list[JournalEntry], batch: Batch) -> int:
        """Phones and emails written in the message belong to the writer; if one is already
        another customer's, the two are the same person (exact match) and are merged."""
        found = [(IdentityKind.PHONE.value, p) for p in prepared.entities.phones]
        found += [(IdentityKind.EMAIL.value, e) for e in prepared.entities.emails]
        for kind, value in found:
            merge = customers.link(conn, customer_id, kind, value, now, source="message text")
            if merge is not None:
                journal.append(_merged(merge))
                batch.merged(merge.dropped, merge.kept)
                customer_id = merge.kept
        return customer_id

    def _open(self, conn: Connection, message: InboundMessage, customer_id: int,
              sender_kind: str, result: Classification, thread: Thread, now: datetime,
              journal: list[JournalEntry], tier: str) -> _Ticket:
        decided = route(self.routing, result.category, result.topic, result.supplier_id,
                        result.department, result.department_rule)
        clocks, sla_entry = self.sla.initial(
            {"category": result.category, "topic": result.topic,
             "channel": message.channel.value, "priority": result.priority, "tier": tier},
            decided.assigned_supplier_id is not None, now)
        ticket_id = store.create_ticket(conn, {
            "status": "open", "channel": message.channel.value, "category": result.category,
            "topic": result.topic, "supplier_id": result.supplier_id,
            "department": decided.department,
            "assigned_supplier_id": decided.assigned_supplier_id, "priority": result.priority,
            "customer_id": customer_id, "sender_kind": sender_kind,
            "subject": _subject(message), "confidence": result.confidence,
            "rules": list(result.rules), "tags": list(result.tags), "sla_level": "none",
            "thread_key": message.conversation, "linked_ticket_id": thread.linked_to,
            "created_at": now, "updated_at": now, "sla": None, "sla_next_at": None,
            "sla_version": 0, "first_response_at": None, "assignee": None, "closed_at": None,
            **clocks,
        })
        # who wrote is part of the story of the ticket's creation: one entry, not two
        identified, others = journal[0], journal[1:]
        entries = [JournalEntry("created", f"from {message.channel.value}: {thread.reason}; "
                                f"{identified.reason}",
                                data={"linked_ticket_id": thread.linked_to, **identified.data})]
        entries += others
        entries.append(_classified(result))
        entries.append(JournalEntry("routed", "; ".join(decided.reasons),
                                    data={"department": decided.department}))
        if decided.assigned_supplier_id:
            entries.append(JournalEntry("assigned", f"handed to supplier "
                                        f"{decided.assigned_supplier_id}",
                                        data={"supplier_id": decided.assigned_supplier_id}))
        if sla_entry is not None:
            entries.append(sla_entry)
        journal[:] = entries
        return _Ticket(ticket_id, result.category, result.topic, result.supplier_id,
                       decided.department)

    def _join(self, conn: Connection, thread: Thread, result: Classification, now: datetime,
              journal: list[JournalEntry]) -> _Ticket:
        """A follow-up joins its ticket. It reclassifies the ticket only when the ticket was
        a question or a guess and the follow-up is a confident complaint, and it names the
        supplier when the ticket had none (`mã đơn của em là DH...`)."""
        head = thread.ticket
        assert head is not None
        values: dict[str, object] = {"updated_at": now}
        entries = [JournalEntry("message_added", thread.reason)]
        ticket = _Ticket(head.id, head.category, head.topic, head.supplier_id, head.department)
        if head.status in CLOSED_STATUSES:
            values.update(status="open", closed_at=None)
            entries.append(JournalEntry("status_changed", f"{head.status} → open: the customer "
                                        "wrote again", data={"from": head.status, "to": "open"}))
        elif head.status == "pending_customer":
            values["status"] = "open"
            entries.append(JournalEntry("status_changed", "pending_customer → open: the "
                                        "customer answered", data={"from": head.status,
                                                                   "to": "open"}))
        upgrade = (head.category == "inquiry" or head.confidence < self.settings.classifier
                   .threshold) and result.category != "inquiry" and not result.fallback
        if upgrade:
            supplier_id = result.supplier_id or head.supplier_id
            decided = route(self.routing, result.category, result.topic, supplier_id,
                            result.department, result.department_rule)
            ticket = _Ticket(head.id, result.category, result.topic, supplier_id,
                             decided.department)
            values.update(category=result.category, topic=result.topic,
                          supplier_id=supplier_id, department=decided.department,
                          assigned_supplier_id=decided.assigned_supplier_id,
                          confidence=result.confidence, rules=list(result.rules))
            entries.append(_classified(result, reclassified_from=head.category))
            entries.append(JournalEntry("routed", "; ".join(decided.reasons),
                                        data={"department": decided.department}))
        elif head.supplier_id is None and result.supplier_id:
            decided = route(self.routing, head.category, head.topic, result.supplier_id)
            ticket = _Ticket(head.id, head.category, head.topic, result.supplier_id,
                             head.department)
            values.update(supplier_id=result.supplier_id,
                          assigned_supplier_id=decided.assigned_supplier_id)
            entries.append(JournalEntry(
                "supplier_identified", f"supplier {result.supplier_id} "
                f"({result.supplier_source}) from the customer's follow-up",
                data={"supplier_id": result.supplier_id}))
            if decided.assigned_supplier_id:
                entries.append(JournalEntry("assigned", f"handed to supplier "
                                            f"{decided.assigned_supplier_id}",
                                            data={"supplier_id": decided.assigned_supplier_id}))
        clocks, sla_entries = self.sla.follow_up(head.sla, head.status,
                                                 str(values.get("status", head.status)), now)
        entries += sla_entries
        if upgrade and clocks:  # another category may mean another SLA policy
            entry = self.sla.repolicy(clocks["sla"], {
                "category": ticket.category, "topic": ticket.topic, "channel": head.channel,
                "priority": head.priority, "tier": None}, "switchboard")
            if entry is not None:
                clocks.update(self.sla.columns(clocks["sla"]))
                entries.append(entry)
        values.update(clocks)
        store.update_ticket(conn, head.id, values)
        # who the customer is was said when the ticket opened; repeat it only for news
        journal[:] = entries + [e for e in journal if e.action != "identified"]
        return ticket


def _inbound_row(message: InboundMessage, ticket_id: int, author: str, author_kind: str,
                 meta: dict[str, str], classification: dict[str, object] | None = None
                 ) -> dict[str, object]:
    """The message as its ticket keeps it."""
    return {"ticket_id": ticket_id, "direction": "in", "channel": message.channel.value,
            "external_id": message.external_id, "author": author, "author_kind": author_kind,
            "subject": message.subject, "text": message.text,
            "attachments": [a.to_dict() for a in message.attachments],
            "classification": classification, "meta": meta, "created_at": message.received_at}


def _message_meta(message: InboundMessage, sender: str) -> dict[str, str]:
    meta = {k: v for k, v in message.meta.items() if k != "participants"}
    if message.recipient:
        meta["recipient"] = message.recipient
    meta["from"] = sender
    return meta


def _subject(message: InboundMessage) -> str:
    if message.subject and message.subject.strip():
        return message.subject.strip()[:500]
    first_line = message.text.strip().splitlines()[0] if message.text.strip() else ""
    return (first_line[:80] + "…") if len(first_line) > 80 else first_line


def _summary(result: Classification) -> dict[str, object]:
    return {"category": result.category, "topic": result.topic,
            "supplier_id": result.supplier_id, "confidence": result.confidence,
            "rules": list(result.rules)}


def _classified(result: Classification, reclassified_from: str | None = None) -> JournalEntry:
    reason = result.explain()
    if result.supplier_id:
        reason += f"; supplier {result.supplier_id} ({result.supplier_source})"
    else:
        reason += "; no supplier identified"
    if reclassified_from:
        reason = f"reclassified from {reclassified_from}: " + reason
    return JournalEntry("classified", reason, data={
        "category": result.category, "topic": result.topic, "supplier_id": result.supplier_id,
        "confidence": result.confidence, "rules": list(result.rules),
        "scores": dict(result.scores), "fallback": result.fallback})


def _merged(merge: Merge) -> JournalEntry:
    return JournalEntry("merged", f"customer #{merge.dropped} merged into #{merge.kept}: "
                        f"{merge.reason}", data={"kept": merge.kept, "dropped": merge.dropped})
