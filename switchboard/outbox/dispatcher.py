"""The outbox dispatcher: sends what the outbox holds, retries with back-off, and says on
the ticket when something was delivered or why it could not be.

It claims due rows in a short transaction (a lease, `FOR UPDATE SKIP LOCKED` on PostgreSQL,
so several dispatchers never take the same row), sends outside any transaction, and records
the result. A channel without a configured sender keeps its rows waiting, said once in the
log; they go out when the channel is configured.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import Connection, select, update

from connectors.outbound import Sender, SendFailed
from switchboard.settings import OutboxSettings
from tickets import outbox, store
from tickets.clock import Clock
from tickets.database import Database
from tickets.outbox import OutboxItem
from tickets.schema import messages
from tickets.store import JournalEntry

log = logging.getLogger("switchboard.dispatcher")


def backoff(settings: OutboxSettings, attempts: int) -> timedelta:
    delay: timedelta = settings.backoff_base * (2 ** max(attempts - 1, 0))
    return min(delay, settings.backoff_max)


OnDelivery = Callable[[Connection, OutboxItem, str, str | None, datetime], None]


class Dispatcher:
    def __init__(self, settings: OutboxSettings, db: Database, clock: Clock,
                 senders: Mapping[str, Sender], on_delivery: OnDelivery | None = None) -> None:
        """`on_delivery(conn, item, state, error, now)` runs in the transaction that records a
        final result (sent, or failed for good): e.g. to tell the ticket's Slack thread."""
        self.on_delivery = on_delivery
        self.settings = settings
        self.db = db
        self.clock = clock
        self.senders = dict(senders)
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    def _claim(self) -> list[OutboxItem]:
        with self.db.write() as conn:
            return outbox.claim(conn, self.clock.now(), self.settings.batch_size,
                                self.settings.lease, channels=sorted(self.senders))

    async def run_once(self) -> int:
        """Send one batch; how many rows it handled."""
        if not self.senders:
            return 0
        items = await asyncio.to_thread(self._claim)
        for item in items:
            sender = self.senders[item.message.channel.value]
            try:
                external_id = await sender.send(item.message, key=f"outbox-{item.id}")
            except SendFailed as exc:
                await asyncio.to_thread(self._failed, item, str(exc), exc.permanent)
            except Exception as exc:  # a sender bug must not stop the others
                log.exception("sender for %s crashed", item.message.channel.value)
                await asyncio.to_thread(self._failed, item, f"{type(exc).__name__}: {exc}",
                                        False)
            else:
                await asyncio.to_thread(self._sent, item, external_id)
        return len(items)

    def _sent(self, item: OutboxItem, external_id: str | None) -> None:
        now = self.clock.now()
        with self.db.write() as conn:
            outbox.mark_sent(conn, item.id, external_id, now)
            self._delivery(conn, item, "sent", external_id=external_id)
            if self.on_delivery is not None:
                self.on_delivery(conn, item, "sent", None, now)
            if item.message_id is not None and item.ticket_id is not None:
                # what reached the customer, not Slack upkeep
                store.append_journal(conn, item.ticket_id, now, [JournalEntry(
                    "delivered", f"{item.kind} sent to {item.message.recipient} by "
                    f"{item.message.channel.value}", data={"outbox_id": item.id})])
        # who it went to is personal data (a phone, an address, a platform id): not at INFO
        log.info("outbox %s (%s on %s, %s) sent", item.id, item.kind,
                 item.message.channel.value, item.message.ticket_ref)

    def _failed(self, item: OutboxItem, error: str, permanent: bool) -> None:
        now = self.clock.now()
        final = permanent or item.attempts >= self.settings.max_attempts
        retry_at = None if final else now + backoff(self.settings, item.attempts)
        with self.db.write() as conn:
            outbox.mark_failed(conn, item.id, error, retry_at)
            if final and item.ticket_id is not None:
                self._delivery(conn, item, "failed", error=error)
                if self.on_delivery is not None:
                    self.on_delivery(conn, item, "failed", error, now)
                store.append_journal(conn, item.ticket_id, now, [JournalEntry(
                    "delivery_failed", f"{item.kind} to {item.message.recipient} could not be "
                    f"sent after {item.attempts} attempt(s): {error}",
                    data={"outbox_id": item.id})])
        log.warning("outbox %s (%s on %s, %s) failed%s: %s", item.id, item.kind,
                    item.message.channel.value, item.message.ticket_ref,
                    "" if final else f"; retry at {retry_at}", error)

    @staticmethod
    def _delivery(conn: Connection, item: OutboxItem, state: str, *,
                  external_id: str | None = None, error: str | None = None) -> None:
        """Mark the ticket message the agent sees: queued → sent | failed."""
        if item.message_id is None:
            return
        meta = conn.execute(select(messages.c.meta)
                            .where(messages.c.id == item.message_id)).scalar() or {}
        meta = {**meta, "delivery": state}
        if error:
            meta["error"] = error[:500]
        values: dict[str, object] = {"meta": meta}
        channel = item.message.channel.value
        if external_id and channel != "email":  # email ids are ours and set at enqueue
            taken = conn.execute(select(messages.c.id).where(
                messages.c.channel == channel, messages.c.external_id == external_id)
            ).first()
            if taken is None:
                values["external_id"] = external_id
            else:  # a platform that reuses ids must not make a sent message look unsent
                meta["platform_id"] = external_id
        conn.execute(update(messages).where(messages.c.id == item.message_id).values(**values))

    async def run(self) -> None:
        log.info("outbox dispatcher started for %s", ", ".join(sorted(self.senders)) or
                 "no channel (nothing can be sent until one is configured)")
        while not self._stopping:
            try:
                handled = await self.run_once()
            except Exception:
                log.exception("outbox batch failed; retrying")
                handled = 0
                await asyncio.sleep(1.0)
            if not handled:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(),
                                           self.settings.idle_sleep.total_seconds())

