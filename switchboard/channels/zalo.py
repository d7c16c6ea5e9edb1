"""Zalo Official Account: events signed with `X-ZEvent-Signature` (a plain SHA-256 of app
id, body, timestamp and the OA secret key), answered through the OA API."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connectors.outbound import Sender
from connectors.webhooks import Parsed, json_object
from switchboard.channels.spec import ChannelSpec, Conversation, Webhook
from tickets.messages import Channel


def read(body: bytes, headers: Mapping[str, str], config: Any, now: datetime) -> Parsed:
    from connectors.zalo import webhook

    data = json_object(body)
    webhook.verify(body, headers.get("x-zevent-signature"), data, config.app_id,
                   config.secret_key)
    return webhook.parse(data, now)


def sender(config: Any, timeout: float) -> Sender:
    import httpx

    from connectors.zalo.sender import ZaloSender

    return ZaloSender(config.api_url, config.access_token, httpx.AsyncClient(timeout=timeout))


def address(meta: Mapping[str, str], config: Any) -> tuple[str, dict[str, object]]:
    return meta.get("user_id", meta.get("from", "")), {"user_id": meta.get("user_id")}


SPEC = ChannelSpec(
    key="zalo",
    conversations=(Conversation(Channel.ZALO, "Zalo", address, acknowledges=True),),
    webhook=Webhook("zalo", read),
    sender=sender,
)
