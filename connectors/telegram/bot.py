"""Telegram updates into messages, with aiogram's Dispatcher and one Router.

Webhook mode checks `X-Telegram-Bot-Api-Secret-Token` (constant time) and feeds the update
to the Dispatcher; long polling (`mode: polling`) runs the same handlers for development.
`/start` is answered at once with the greeting from `templates/` in the user's language and
is not a ticket. Text, photos and documents become messages whose dedup key is the
`update_id` (not "the highest id seen": ids can jump after a week of silence).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC
from typing import Any

from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters import CommandStart
from aiogram.methods import TelegramMethod
from aiogram.types import Message, Update
from aiogram.types.update import UpdateTypeLookupError
from pydantic import ValidationError

from connectors.outbound import SendFailed
from connectors.webhooks import WebhookError, same
from tickets.messages import Attachment, Channel, InboundMessage, OutboundMessage

log = logging.getLogger("switchboard.telegram")

Deliver = Callable[[InboundMessage], Awaitable[bool]]
Greeting = Callable[[str], str]


def make_bot(token: str, api_base: str | None = None, timeout: float = 20.0) -> Bot:
    """`api_base` points aiogram at another Bot API server (a local one, or a test fake)."""
    session = (AiohttpSession(api=TelegramAPIServer.from_base(api_base), timeout=timeout)
               if api_base else AiohttpSession(timeout=timeout))
    return Bot(token=token, session=session)


def verify_secret(header: str | None, secret: str) -> None:
    if not secret:
        return
    if not header:
        raise WebhookError(401, "missing X-Telegram-Bot-Api-Secret-Token")
    if not same(secret, header):
        raise WebhookError(403, "X-Telegram-Bot-Api-Secret-Token does not match")


def to_inbound(message: Message, update_id: int) -> InboundMessage:
    user = message.from_user
    sender = str(user.id if user else message.chat.id)
    name = user.full_name if user else None
    attachments: list[Attachment] = []
    if message.photo:
        largest = message.photo[-1]
        attachments.append(Attachment(filename="photo.jpg", content_type="image/jpeg",
                                      size=largest.file_size or 0,
                                      url=f"tg-file:{largest.file_id}"))
    if message.document:
        document = message.document
        attachments.append(Attachment(filename=document.file_name or "document",
                                      content_type=document.mime_type or
                                      "application/octet-stream",
                                      size=document.file_size or 0,
                                      url=f"tg-file:{document.file_id}"))
    text = message.text or message.caption or ""
    if not text:
        text = "[" + ", ".join(a.filename for a in attachments) + "]" if attachments \
            else "(empty)"
    when = message.date if message.date.tzinfo else message.date.replace(tzinfo=UTC)
    return InboundMessage(
        Channel.TELEGRAM, str(update_id), sender, text, when, sender_name=name,
        attachments=tuple(attachments),
        meta={"chat_id": str(message.chat.id), "message_id": str(message.message_id),
              "language": (user.language_code or "") if user else ""})


class TelegramConnector:
    def __init__(self, bot: Bot, deliver: Deliver, greeting: Greeting) -> None:
        self.bot = bot
        self.deliver = deliver
        self.greeting = greeting
        self.dispatcher = Dispatcher()
        self._polling = False
        router = Router(name="switchboard")
        router.message.register(self._start, CommandStart())
        router.message.register(self._message, F.text | F.photo | F.document)
        router.message.register(self._other)
        router.edited_message.register(self._edited, F.text | F.caption)
        self.dispatcher.include_router(router)

    async def _start(self, message: Message) -> Any:
        language = (message.from_user.language_code or "vi") if message.from_user else "vi"
        return message.answer(self.greeting(language))  # a method for the caller to send

    async def _message(self, message: Message, event_update: Update) -> None:
        await self.deliver(to_inbound(message, event_update.update_id))

    async def _edited(self, message: Message, event_update: Update) -> None:
        """An edit is kept as a new message on the ticket (the agent may have read the
        first version), marked as an edit; the update id keeps it unique."""
        inbound = to_inbound(message, event_update.update_id)
        await self.deliver(replace(inbound, text=f"[đã sửa / edited] {inbound.text}"))

    async def _other(self, message: Message) -> None:
        log.info("telegram: ignored a %s message", message.content_type)

    async def feed(self, update: dict[str, Any]) -> None:
        """One webhook update. Raises only if delivery to the inbox failed (the HTTP layer
        then answers 500 and Telegram retries). An update of a kind this aiogram does not
        know (a newer Bot API, or nonsense with a valid secret) is logged and ignored:
        aiogram would raise on it, and Telegram would retry it for a day."""
        try:
            kind = Update.model_validate(update, context={"bot": self.bot}).event_type
        except (ValidationError, UpdateTypeLookupError):
            log.info("telegram: ignored an update of no known type (update_id %s)",
                     update.get("update_id"))
            return
        log.debug("telegram: %s update", kind)
        result: Any = await self.dispatcher.feed_webhook_update(self.bot, update)
        if isinstance(result, TelegramMethod):
            try:
                await self.bot(result)
            except Exception:  # the greeting is a courtesy: never fail the update for it
                log.exception("telegram: could not send the /start greeting")

    async def poll(self) -> None:
        await self.bot.delete_webhook(drop_pending_updates=False)
        self._polling = True
        try:
            await self.dispatcher.start_polling(self.bot, handle_signals=False)
        finally:
            self._polling = False

    async def stop(self) -> None:
        """Stop polling (if it runs) before the inbox writer closes, so no update is
        taken from Telegram that cannot be stored; then close the HTTP session."""
        if self._polling:
            with contextlib.suppress(RuntimeError):  # polling had not really started yet
                await self.dispatcher.stop_polling()
        await self.bot.session.close()


class TelegramSender:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def aclose(self) -> None:
        """The bot's session belongs to the connector, which closes it."""

    async def send(self, message: OutboundMessage, key: str) -> str | None:
        chat_id = message.thread.get("chat_id") or message.recipient
        try:
            sent = await self.bot.send_message(chat_id=int(chat_id), text=message.text)
        except (TelegramForbiddenError, TelegramNotFound) as exc:
            raise SendFailed(f"Telegram refused: {exc.message} (the user blocked the bot "
                             "or the chat is gone)", permanent=True) from exc
        except TelegramBadRequest as exc:
            raise SendFailed(f"Telegram refused the message: {exc.message}",
                             permanent=True) from exc
        except TelegramRetryAfter as exc:
            raise SendFailed(f"Telegram asked to wait {exc.retry_after} s") from exc
        except (TelegramNetworkError, TelegramServerError) as exc:
            raise SendFailed(f"Telegram unreachable: {exc}") from exc
        return f"{sent.chat.id}:{sent.message_id}"


