"""The Telegram bot: aiogram's Bot and Dispatcher, shared by the intake (webhook or long
polling) and the sender, so it is built here once rather than by the channel registry's
sender factory."""

from __future__ import annotations

from connectors.telegram.bot import TelegramConnector, TelegramSender, make_bot
from switchboard.intake.inbox_writer import InboxWriter
from switchboard.outbox.templates import Templates
from switchboard.settings import Settings


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
