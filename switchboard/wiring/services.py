"""What runs beside the HTTP server in one asyncio loop: the pipeline worker, the outbox
dispatcher, the SMTP receiver and the IMAP pollers (each in its own thread). Started in the
app's lifespan (or by `switchboard worker`), stopped cleanly, each saying in the log when it
is disabled and why."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from connectors.email.imap_poller import ImapPoller
from connectors.outbound import Sender
from connectors.telegram.bot import TelegramConnector
from switchboard.bootstrap import Runtime
from switchboard.intake.inbox_writer import InboxWriter
from switchboard.jobs import digest, retention
from switchboard.jobs.sla_sweeper import Sweeper
from switchboard.jobs.spikes import SpikeWatch
from switchboard.outbox.dispatcher import Dispatcher
from switchboard.pipeline.split import split
from switchboard.pipeline.worker import Worker
from switchboard.ticket_rules.sla_keeper import keeper_for
from switchboard.wiring.chats import chat_senders
from switchboard.wiring.email import email_sender, make_intake, pollers, start_smtp
from switchboard.wiring.slack import Slack, delivery_notices, make_slack
from switchboard.wiring.telegram import telegram_bot

T = TypeVar("T")
log = logging.getLogger("switchboard")


class Services:
    def __init__(self, rt: Runtime, *, worker: bool = True, intake: bool = True) -> None:
        self.rt = rt
        self.run_worker = worker
        self.run_intake = intake
        self.worker: Worker | None = None
        self.dispatcher: Dispatcher | None = None
        self.smtp: asyncio.Server | None = None
        self.pollers: list[ImapPoller] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.inbox_writer: InboxWriter | None = None
        self.telegram: TelegramConnector | None = None
        # bots that take their platform's webhook (web/webhooks hands them the updates)
        self.bots: dict[str, TelegramConnector] = {}
        self._telegram_sender: Sender | None = None
        self._senders: dict[str, Sender] | None = None
        self.slack: Slack | None = None
        self.scheduler: AsyncIOScheduler | None = None

    def wake_worker(self) -> None:
        if self.worker is not None:
            self.worker.wake()

    def wake_dispatcher(self) -> None:
        if self.dispatcher is not None:
            self.dispatcher.wake()

    def wake_dispatcher_threadsafe(self) -> None:
        """For code running in a thread (sync endpoints): asyncio events are not
        thread-safe, so the wake-up is handed to the loop."""
        if self.dispatcher is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self.dispatcher.wake)

    def senders(self) -> dict[str, Sender]:
        """One sender per channel, built once (they hold connection pools)."""
        if self._senders is None:
            senders: dict[str, Sender] = chat_senders(self.rt.settings)
            email = email_sender(self.rt.settings)
            if email is not None:
                senders["email"] = email
            if self._telegram_sender is not None:
                senders["telegram"] = self._telegram_sender
            if self.slack is not None:
                senders["slack"] = self.slack.sender
            self._senders = senders
        return self._senders

    async def start(self) -> None:
        rt = self.rt
        loop = self._loop = asyncio.get_running_loop()
        self.inbox_writer = InboxWriter(rt.db, rt.clock, on_new=self.wake_worker,
                                        queue=rt.pipeline.queue)
        self.inbox_writer.start()
        self.slack = make_slack(rt.settings, rt.db, rt.clock, rt.secret, self.inbox_writer.put,
                                self.wake_dispatcher, functools.partial(split, rt.pipeline.context),
                                rt.pipeline.context.knowledge)
        if self.slack is not None and self.slack.app_token and self.run_intake:
            await self.slack.start_socket_mode()
        bot = telegram_bot(rt.settings, self.inbox_writer, rt.templates)
        if bot is not None:
            self.telegram, self._telegram_sender = bot
            if rt.settings.channels.telegram.mode == "webhook":
                self.bots["telegram"] = self.telegram
            elif self.run_intake:
                self._tasks.append(asyncio.create_task(self.telegram.poll(),
                                                       name="telegram-polling"))
        if self.run_worker:
            self.worker = Worker(rt.pipeline, rt.settings.worker.idle_sleep.total_seconds())
            self._tasks.append(asyncio.create_task(self.worker.run(), name="worker"))
            self.dispatcher = Dispatcher(rt.settings.outbox, rt.db, rt.clock, self.senders(),
                                         on_delivery=delivery_notices(rt.settings))
            self._tasks.append(asyncio.create_task(self.dispatcher.run(), name="dispatcher"))
            self._start_sla()
            self._start_reports()
            self._start_retention()
            if self.scheduler is not None:
                self.scheduler.start()
        else:
            log.info("pipeline worker and dispatcher not started here (--no-worker)")
        if self.run_intake:
            def wake_from_thread() -> None:
                loop.call_soon_threadsafe(self.wake_worker)

            intake = make_intake(rt.settings, rt.db, rt.clock, on_new=wake_from_thread,
                                 queue=rt.pipeline.queue)
            self.smtp = await start_smtp(rt.settings, intake)
            self.pollers = pollers(rt.settings, rt.db, rt.clock, intake)
            for poller in self.pollers:
                self._tasks.append(asyncio.create_task(asyncio.to_thread(poller.run),
                                                       name=f"imap {poller.mailbox.address}"))
            if not self.pollers:
                log.info("IMAP polling disabled (no mailbox has an imap: section)")

    def _start_sla(self) -> None:
        """One interval job, never overlapping itself (APScheduler's `max_instances=1`,
        `coalesce=True`): no job per ticket; the sweep itself finds what is due."""
        rt = self.rt
        keeper = keeper_for(rt.settings)
        if not keeper.enabled:
            log.info("SLA sweeper disabled (sla.enabled, or no sla.policies)")
            return
        sweeper = Sweeper(rt.settings, rt.db, rt.clock, keeper)

        sweep = self._job(sweeper.sweep, "SLA sweep failed; the next one retries",
                          lambda done: bool(done.steps))
        self._scheduler().add_job(sweep, "interval",
                                  seconds=rt.settings.sla.sweep_every.total_seconds(),
                                  coalesce=True, max_instances=1, id="sla-sweep",
                                  next_run_time=datetime.now(rt.settings.zone))

    def _job(self, work: Callable[[], T], failed: str, wakes: Callable[[T], bool]
             ) -> Callable[[], Awaitable[None]]:
        """A scheduled job: `work` in a thread; a failure is logged and the next run
        retries; the dispatcher is woken when `wakes(result)` (it queued something)."""
        async def run() -> None:
            try:
                done = await asyncio.to_thread(work)
            except Exception:
                log.exception(failed)
                return
            if wakes(done):
                self.wake_dispatcher()
        return run

    def _scheduler(self) -> AsyncIOScheduler:
        if self.scheduler is None:
            self.scheduler = AsyncIOScheduler(timezone=self.rt.settings.zone)
        return self.scheduler

    def _start_reports(self) -> None:
        """Spike alerts every few minutes and the managers' digest once a day, both to
        Slack; without Slack there is nobody to tell."""
        rt = self.rt
        board = rt.settings.dashboard
        if not rt.settings.slack.enabled:
            log.info("spike alerts and daily digest off: Slack is disabled")
            return
        if board.spikes.enabled:
            watch = SpikeWatch(rt.settings, rt.db)

            spikes = self._job(lambda: watch.check(rt.clock.now()),
                               "spike check failed; the next one retries", bool)
            self._scheduler().add_job(spikes, "interval",
                                      seconds=board.spikes.every.total_seconds(),
                                      coalesce=True, max_instances=1, id="spikes")
        if board.digest.enabled:
            hour, minute = (int(x) for x in board.digest.at.split(":"))

            send_digest = self._job(lambda: digest.send(rt.settings, rt.db, rt.clock.now()),
                                    "daily digest failed", bool)
            self._scheduler().add_job(send_digest, "cron", hour=hour, minute=minute,
                                      coalesce=True, max_instances=1, id="digest",
                                      misfire_grace_time=3600)

    def _start_retention(self) -> None:
        """Anonymise what `privacy.retention` makes due, every `every` (off when nothing
        is configured to expire)."""
        rt = self.rt
        policy = rt.settings.privacy.retention
        if policy.closed_tickets is None and policy.raw_mail is None:
            return

        sweep = self._job(lambda: retention.sweep(rt.db, rt.settings, rt.clock.now()),
                          "retention sweep failed; the next one retries",
                          lambda done: bool(done["tickets"] or done["customers"]))
        self._scheduler().add_job(sweep, "interval", seconds=policy.every.total_seconds(),
                                  coalesce=True, max_instances=1, id="retention",
                                  next_run_time=datetime.now(rt.settings.zone))

    async def stop(self) -> None:
        # intake first, then the writer that stores what intake accepted, then the rest
        if self.telegram is not None:
            await self.telegram.stop()
        if self.slack is not None:
            await self.slack.stop()
        for poller in self.pollers:
            poller.stop()
        if self.smtp is not None:
            self.smtp.close()
            await self.smtp.wait_closed()
        if self.inbox_writer is not None:
            await self.inbox_writer.stop()
        if self.worker is not None:
            self.worker.stop()
        if self.dispatcher is not None:
            self.dispatcher.stop()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(task, timeout=30)
        if self.worker is not None and (queue := self.rt.pipeline.queue) is not None:
            # after the batch at hand finished: its entries are acknowledged or pending
            with contextlib.suppress(Exception):
                await asyncio.to_thread(queue.leave)
        for sender in set((self._senders or {}).values()):
            await sender.aclose()
