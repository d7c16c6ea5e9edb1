"""Telegram: aiogram's Dispatcher turns updates into messages (and answers `/start` with a
greeting), so the webhook only checks `X-Telegram-Bot-Api-Secret-Token` and hands the
update to the bot; the bot's own session sends the answers (both built in
`switchboard.wiring.telegram`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connectors.webhooks import Parsed, WebhookError, json_object
from switchboard.channels.spec import ChannelSpec, Conversation, Webhook
from tickets.messages import Channel


def read(body: bytes, headers: Mapping[str, str], config: Any, now: datetime) -> Parsed:
    from connectors.telegram.bot import verify_secret  # aiogram: loaded where it runs

    verify_secret(headers.get("x-telegram-bot-api-secret-token"), config.webhook_secret)
    data = json_object(body)
    if not isinstance(data.get("update_id"), int):
        raise WebhookError(400, "missing field update_id")
    return Parsed(updates=[data])


def address(meta: Mapping[str, str], config: Any) -> tuple[str, dict[str, object]]:
    return meta.get("chat_id", meta.get("from", "")), {"chat_id": meta.get("chat_id")}


SPEC = ChannelSpec(
    key="telegram",
    conversations=(Conversation(Channel.TELEGRAM, "Telegram", address, acknowledges=True),),
    webhook=Webhook("telegram", read, bot=True),
)
