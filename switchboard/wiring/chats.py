"""The chat and comment channels wired to the rest: senders for the outbox and the
Telegram bot, each only when its channel is enabled (and said in the log when not)."""

from __future__ import annotations

import logging

import httpx

from connectors.facebook.sender import GraphSender
from connectors.outbound import Sender
from connectors.telegram.bot import TelegramConnector, TelegramSender, make_bot
from connectors.web_comments.sender import CallbackSender
from connectors.zalo.sender import ZaloSender
from switchboard.intake.inbox_writer import InboxWriter
from switchboard.outbox.templates import Templates
from switchboard.settings import Settings

log = logging.getLogger("switchboard.channels")


def chat_senders(settings: Settings) -> dict[str, Sender]:
    channels = settings.channels
    senders: dict[str, Sender] = {}
    timeout = channels.send_timeout.total_seconds()
    if channels.messenger.enabled:
        graph = GraphSender(channels.messenger.graph_url, channels.messenger.page_id,
                            channels.messenger.page_access_token,
                            httpx.AsyncClient(timeout=timeout))
        senders["messenger"] = senders["facebook_comment"] = graph
    if channels.zalo.enabled:
        senders["zalo"] = ZaloSender(channels.zalo.api_url, channels.zalo.access_token,
                                     httpx.AsyncClient(timeout=timeout))
    if channels.web_comments.enabled:
        if channels.web_comments.callback_url:
            senders["web_comment"] = CallbackSender(channels.web_comments.callback_url,
                                                    channels.web_comments.secret,
                                                    httpx.AsyncClient(timeout=timeout))
        else:
            log.info("web comments: no callback_url, answers wait in the outbox")
    for name in ("messenger", "telegram", "zalo", "web_comments"):
        if not getattr(channels, name).enabled:
            log.info("channel %s disabled (channels.%s.enabled)", name, name)
    return senders


def telegram_bot(settings: Settings, writer: InboxWriter,
                 templates: Templates) -> tuple[TelegramConnector, TelegramSender] | None:
    telegram = settings.channels.telegram
    if not telegram.enabled:
        return None
    bot = make_bot(telegram.token, telegram.api_url,
                   settings.channels.send_timeout.total_seconds())

    def greeting(language: str) -> str:
        return templates.text("chat/greeting", "en" if language.startswith("en") else "vi")

    return TelegramConnector(bot, writer.put, greeting), TelegramSender(bot)
