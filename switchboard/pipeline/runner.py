"""The pipeline's runner: inbox items claimed in batches and processed in one transaction.

Each message goes through the spine (`switchboard.pipeline.process`); the inbox row is
deleted in the same transaction (DESIGN invariant 1). A failing message is rolled back to
its savepoint, counted, and retried later (dead-lettered after `max_attempts`); the rest of
the batch still commits. The dedup key `(channel, external_id)` is unique in `messages`, so
a replay is a no-op even if two workers raced on it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from router import Normalizer
from switchboard.outbox.templates import Templates
from switchboard.pipeline.acknowledge import Acknowledger
from switchboard.pipeline.batch import Batch
from switchboard.pipeline.context import Context
from switchboard.pipeline.outcome import Outcome
from switchboard.pipeline.process import process
from switchboard.pipeline.threads import Threader
from switchboard.settings import Settings
from switchboard.ticket_rules import knowledge_file
from switchboard.ticket_rules.classification import ClassifierCache, routing_table
from switchboard.ticket_rules.sla_keeper import keeper_for
from tickets import inbox, store
from tickets.clock import Clock
from tickets.customers import Tier
from tickets.database import Database
from tickets.messages import InboundMessage

log = logging.getLogger("switchboard.pipeline")

if TYPE_CHECKING:
    from switchboard.intake.redis_inbox import RedisInbox

__all__ = ["Outcome", "Pipeline"]


@dataclass(frozen=True, slots=True)
class _Given:
    """A message handed to `run_messages`, shaped like an inbox item for `_apply`."""
    message: InboundMessage
    id: str = "given"


class Pipeline:
    def __init__(self, settings: Settings, db: Database, clock: Clock,
                 classifiers: ClassifierCache | None = None, secret: bytes = b"",
                 templates: Templates | None = None, acknowledge: bool = True) -> None:
        """`acknowledge=False` for imports of old mail: history gets no "we received it"."""
        self.settings = settings
        self.db = db
        self.clock = clock
        self.classifiers = classifiers or ClassifierCache(settings)
        self.sla = keeper_for(settings)
        self.context = Context(
            settings=settings, clock=clock, classifiers=self.classifiers,
            routing=routing_table(settings), prefix=settings.tickets.ref_prefix,
            threader=Threader(settings, secret),
            acknowledger=Acknowledger(settings, secret, templates or Templates()),
            acknowledge=acknowledge,
            agents_side=settings.slack.enabled or bool(settings.agents), sla=self.sla,
            tiers=[Tier(t.name, t.min_spend) for t in settings.customers.tiers],
            knowledge=knowledge_file.load(settings, Normalizer(settings.teencode)))
        self.queue: RedisInbox | None = None  # set when the inbox is Redis Streams
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
                if not self.context.acknowledge:  # history stays unacknowledged when retried too
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
                fresh = [m for m in messages
                         if (m.channel.value, m.external_id) not in processed]
                batch.prepare(fresh)
                batch.read(self.classifiers.get(conn), fresh)
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
        """One message into its ticket (the spine). Alone (no `batch`), it writes
        everything at once."""
        return process(self.context, conn, message, batch, processed)
