"""Adding a chat channel is a connector, one registry entry and declarative lines: a
throw-away channel registered here (nothing in web/, wiring/, outbox/ or pipeline/ knows
it) reaches a ticket through its webhook, is acknowledged, and gets an agent's reply through
the outbox — its sender talking to a fake platform API on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from connectors.outbound import Sender, SendFailed
from connectors.webhooks import Parsed, WebhookError, hmac_sha256_hex, json_object, same
from switchboard import channels
from switchboard.channels import ChannelSpec, Conversation, Webhook
from switchboard.settings import Settings
from tests.connectors.chat import ADMIN, Chat, running_chat
from tests.connectors.fakes import FakePlatform, Received
from tickets.clock import ManualClock
from tickets.database import Database
from tickets.messages import Channel, InboundMessage, OutboundMessage

SECRET = "kiwi-secret"
KIWI = Channel.register("kiwi_chat")


class KiwiSender:
    """What a connector's sender looks like: the platform's send API over httpx."""

    def __init__(self, base_url: str, client: httpx.AsyncClient) -> None:
        self.base_url = base_url
        self.client = client

    async def send(self, message: OutboundMessage, key: str) -> str | None:
        response = await self.client.post(f"{self.base_url}/send", json={
            "to": message.recipient, "room": message.thread.get("room"),
            "text": message.text, "idempotency_key": key})
        if response.status_code != 200:
            raise SendFailed(f"kiwi answered {response.status_code}")
        sent: str = response.json()["id"]
        return sent

    async def aclose(self) -> None:
        await self.client.aclose()


def read(body: bytes, headers: Mapping[str, str], config: Any, now: datetime) -> Parsed:
    signature = headers.get("x-kiwi-signature")
    if not signature:
        raise WebhookError(401, "missing X-Kiwi-Signature")
    if not same(hmac_sha256_hex(config.secret, body), signature):
        raise WebhookError(403, "X-Kiwi-Signature does not match the body")
    data = json_object(body)
    parsed = Parsed()
    for event in data.get("events") or []:
        if event.get("type") != "text":
            parsed.ignored.append(str(event.get("type")))
            continue
        parsed.messages.append(InboundMessage(
            channel=KIWI, external_id=str(event["id"]), sender=str(event["user"]),
            text=str(event["text"]), received_at=now, sender_name=event.get("name"),
            meta={"room": str(event["room"])}))
    return parsed


def address(meta: Mapping[str, str], config: Any) -> tuple[str, dict[str, object]]:
    return meta.get("from", ""), {"room": meta.get("room")}


def kiwi_spec(api_url: str) -> ChannelSpec:
    config = SimpleNamespace(enabled=True, acknowledge=True, secret=SECRET)

    def sender(_config: Any, timeout: float) -> Sender:
        return KiwiSender(api_url, httpx.AsyncClient(timeout=timeout))

    return ChannelSpec(
        key="kiwi", conversations=(Conversation(KIWI, "Kiwi", address, acknowledges=True),),
        webhook=Webhook("kiwi", read), sender=sender, config=lambda _channels: config)


def kiwi_answer(request: Received) -> Any:
    return {"id": f"kiwi-{len(request.body)}"}


@pytest.fixture
async def kiwi(settings: Settings, db: Database, catalog: Database, clock: ManualClock,
               fake_platform: Callable[..., Any]) -> AsyncIterator[tuple[Chat, FakePlatform]]:
    platform: FakePlatform = await fake_platform(kiwi_answer)
    channels.register(kiwi_spec(platform.url))
    try:
        async with running_chat(settings, db, clock, fake_platform) as chat:
            yield chat, platform
    finally:
        channels.unregister("kiwi")


def event(event_id: str, text: str) -> bytes:
    return json.dumps({"events": [{"id": event_id, "type": "text", "user": "kiwi-user-7",
                                   "name": "Lan", "room": "room-42", "text": text}]}).encode()


async def send(chat: Chat, body: bytes, signature: str | None = None) -> httpx.Response:
    sig = hmac_sha256_hex(SECRET, body) if signature is None else signature
    return await chat.post("/webhooks/kiwi", body, {"X-Kiwi-Signature": sig} if sig else {})


async def test_a_registered_channel_reaches_a_ticket_and_is_answered(
        kiwi: tuple[Chat, FakePlatform]) -> None:
    chat, platform = kiwi
    body = event("kw-1", "Voucher của em bị nhà hàng từ chối, đơn DH100245, xử lý giúp em")
    response = await send(chat, body)
    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True, "queued": 1, "duplicates": 0, "ignored": 0}
    assert (await send(chat, body)).json()["duplicates"] == 1  # a replay changes nothing
    await chat.settle()
    [ticket] = chat.tickets()
    assert ticket["channel"] == "kiwi_chat"
    [ack] = [r.json() for r in platform.received if r.path == "/send"]
    assert ack["to"] == "kiwi-user-7" and ack["room"] == "room-42"
    assert ticket["ref"] in ack["text"]

    answer = await chat.reply(ticket["ref"], "Dạ bên em đã liên hệ nhà hàng ạ")
    assert answer.status_code == 202, answer.text
    await chat.settle()
    sent = [r.json() for r in platform.received if r.path == "/send"]
    assert [s["text"] for s in sent][-1] == "Dạ bên em đã liên hệ nhà hàng ạ"
    assert sent[-1]["room"] == "room-42"
    full = await chat.ticket(ticket["ref"])
    assert [m["direction"] for m in full["messages"]] == ["in", "out", "out"]


async def test_a_registered_channel_refuses_bad_signatures_and_bodies(
        kiwi: tuple[Chat, FakePlatform]) -> None:
    chat, _platform = kiwi
    body = event("kw-2", "alo")
    assert (await send(chat, body, signature="")).status_code == 401
    assert (await send(chat, body, signature="00" * 32)).status_code == 403
    assert (await send(chat, b"{not json", hmac_sha256_hex(SECRET, b"{not json"))
            ).status_code == 400
    assert chat.waiting() == 0
    response = await chat.client.get("/api/tickets", headers=ADMIN)
    assert response.json()["total"] == 0
