"""The pipeline worker loop: drain the inbox in batches, sleep when it is empty.

The pipeline is synchronous database work, so each batch runs in a thread and the event
loop (HTTP, SMTP, schedulers) stays responsive. `wake()` lets an intake cut the idle sleep
short, so a message posted to the API is processed within milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from switchboard.pipeline.runner import Outcome, Pipeline

log = logging.getLogger("switchboard.worker")


class Worker:
    def __init__(self, pipeline: Pipeline, idle_sleep: float) -> None:
        self.pipeline = pipeline
        self.idle_sleep = idle_sleep
        self._wake = asyncio.Event()
        self._stopping = False
        self.processed = 0

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run_once(self) -> list[Outcome]:
        return await asyncio.to_thread(self.pipeline.run_batch)

    async def run(self) -> None:
        log.info("pipeline worker started")
        while not self._stopping:
            try:
                outcomes = await self.run_once()
            except Exception:  # the database may be briefly unavailable: retry, never die
                log.exception("pipeline batch failed; retrying")
                outcomes = []
                await asyncio.sleep(1.0)
            self.processed += len(outcomes)
            for outcome in outcomes:
                log.info("%s %s: %s %s", outcome.channel, outcome.external_id, outcome.action,
                         outcome.ref or outcome.error or "")
            if not outcomes:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.idle_sleep)
        log.info("pipeline worker stopped")
