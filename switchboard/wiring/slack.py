"""Slack wired to the rest: the Web API client, the outbox sender, the desk, the bolt app
(HTTP events at /slack/events, or Socket Mode when an app-level token is configured), and
the delivery notices in ticket threads. Nothing here runs when `slack.enabled` is false."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Connection

from connectors.slack.app import make_app
from switchboard import channels
from switchboard.desk import slack_cards
from switchboard.desk.slack_actions import SlackDesk
from switchboard.desk.slack_cards import SlackSender
from switchboard.desk.slack_organise import Split
from switchboard.outbox.dispatcher import OnDelivery
from switchboard.pipeline.split import SplitRefused
from switchboard.settings import Settings
from switchboard.ticket_rules.knowledge_file import KnowledgeFile
from tickets.clock import Clock
from tickets.database import Database
from tickets.messages import Channel
from tickets.outbox import OutboxItem

log = logging.getLogger("switchboard.slack")


class Slack:
    def __init__(self, settings: Settings, db: Database, clock: Clock, secret: bytes,
                 deliver: Callable[[Any], Any], wake: Callable[[], None],
                 timeout: float = 20.0, split: Split | None = None,
                 knowledge: KnowledgeFile | None = None) -> None:
        self.client = AsyncWebClient(token=settings.slack.bot_token,
                                     base_url=settings.slack.api_url, timeout=int(timeout))
        self.sender = SlackSender(self.client, db, settings, clock)
        self.desk = SlackDesk(settings, db, clock, secret, self.client, deliver, wake,
                              split=split, split_refused=(SplitRefused,), knowledge=knowledge)
        self.app: AsyncApp = make_app(self.client, settings.slack.signing_secret, self.desk)
        self.app_token = settings.slack.app_token
        self._socket: Any = None

    async def start_socket_mode(self) -> None:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        self._socket = AsyncSocketModeHandler(self.app, self.app_token)
        await self._socket.connect_async()
        log.info("Slack: connected in Socket Mode")

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()


def make_slack(settings: Settings, db: Database, clock: Clock, secret: bytes,
               deliver: Callable[[Any], Any], wake: Callable[[], None],
               split: Split | None = None, knowledge: KnowledgeFile | None = None
               ) -> Slack | None:
    if not settings.slack.enabled:
        log.info("Slack disabled (slack.enabled): tickets are not posted to agents' channels")
        return None
    missing = [k for k, d in settings.routing.departments.items() if not d.slack_channel]
    if missing:
        log.info("Slack: no channel for departments %s (routing.departments.*.slack_channel)",
                 ", ".join(missing))
    return Slack(settings, db, clock, secret, deliver, wake,
                 settings.channels.send_timeout.total_seconds(), split, knowledge)


def delivery_notices(settings: Settings) -> OnDelivery | None:
    """A line in the ticket's Slack thread when an answer reached the customer, or did not."""
    if not settings.slack.enabled:
        return None

    def notice(conn: Connection, item: OutboxItem, state: str, error: str | None,
               now: datetime) -> None:
        channel = item.message.channel
        if channel is Channel.SLACK or item.ticket_id is None or (
                state == "sent" and item.kind != "reply"):
            return
        label = channels.label(channel.value)
        text = (f"✅ Đã gửi cho khách qua {label} / delivered to the customer"
                if state == "sent" else
                f"⚠️ Không gửi được cho khách qua {label} / not delivered ({item.kind}): "
                f"{error}")
        slack_cards.to_thread(conn, settings, item.ticket_id, text, now)

    return notice
