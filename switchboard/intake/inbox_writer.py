"""Group commit for the inbox: many concurrent webhook requests, one transaction.

Every webhook must be answered only after its message is durably in the inbox, and SQLite
fsyncs every commit; a commit per request would cap intake at the disk's fsync rate. The
writer gathers what arrives within a couple of milliseconds (or up to `max_batch`), writes it
in one transaction in a thread, and then answers each waiting request with whether its
message was new. Durability per request is unchanged: nobody hears "yes" before the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from tickets import inbox
from tickets.clock import Clock
from tickets.database import Database
from tickets.messages import InboundMessage

if TYPE_CHECKING:
    from switchboard.intake.redis_inbox import RedisInbox

log = logging.getLogger("switchboard.intake")


class InboxWriter:
    def __init__(self, db: Database, clock: Clock, on_new: Callable[[], None] | None = None,
                 max_batch: int = 500, linger: float = 0.002,
                 queue: RedisInbox | None = None) -> None:
        self.queue = queue  # Redis Streams instead of the inbox table
        self.db = db
        self.clock = clock
        self.on_new = on_new
        self.max_batch = max_batch
        self.linger = linger
        self._pending: list[tuple[InboundMessage, asyncio.Future[bool]]] = []
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="inbox-writer")

    async def stop(self) -> None:
        self._stopping = True
        self._ready.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def put(self, message: InboundMessage) -> bool:
        """True when the message was new; returns only after the commit."""
        if self._task is None or self._task.done():
            return await asyncio.to_thread(self._write_one, message)
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((message, future))
        self._ready.set()
        return await future

    def _write_one(self, message: InboundMessage) -> bool:
        if self.queue is not None:
            new = self.queue.put(message)
        else:
            with self.db.write() as conn:
                new = inbox.put(conn, message, self.clock.now())
        if new and self.on_new is not None:
            self.on_new()
        return new

    def _write(self, batch: list[InboundMessage]) -> list[bool]:
        if self.queue is not None:
            return self.queue.put_many(batch)
        now = self.clock.now()
        with self.db.write() as conn:
            return [inbox.put(conn, message, now) for message in batch]

    async def _run(self) -> None:
        while not (self._stopping and not self._pending):
            await self._ready.wait()
            self._ready.clear()
            if self.linger and len(self._pending) < self.max_batch and not self._stopping:
                await asyncio.sleep(self.linger)  # let concurrent requests join the commit
            while self._pending:
                batch, self._pending = (self._pending[:self.max_batch],
                                        self._pending[self.max_batch:])
                try:
                    results = await asyncio.to_thread(self._write, [m for m, _ in batch])
                except Exception as exc:
                    log.exception("inbox write failed for %d message(s)", len(batch))
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), new in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(new)
                if any(results) and self.on_new is not None:
                    self.on_new()
