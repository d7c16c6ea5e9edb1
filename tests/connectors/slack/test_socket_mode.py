"""Socket Mode: with an app-level token, slack-bolt's Socket Mode client asks the (fake) Web
API for a WebSocket URL (`apps.connections.open`) and Slack pushes envelopes over it; each
is acknowledged with its `envelope_id` and handled like the HTTP request it stands for."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import WSMsgType, web

from switchboard.settings import Settings
from tests.connectors.chat import running_chat
from tests.connectors.fakes import FakePlatform, Received
from tests.connectors.slack.conftest import LAN, STRANGER, Desk, slack_answer, slack_overrides
from tests.connectors.slack.test_desk import journal_actions
from tickets.clock import ManualClock
from tickets.database import Database


class FakeSocket:
    """Slack's side of the WebSocket: says hello, pushes envelopes, records the acks."""

    def __init__(self) -> None:
        self.acks: list[dict[str, Any]] = []
        self.connected = asyncio.Event()
        self.ws: web.WebSocketResponse | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.ws = ws
        await ws.send_json({"type": "hello", "num_connections": 1,
                            "debug_info": {"host": "fake", "approximate_connection_time": 3600},
                            "connection_info": {"app_id": "A0APP"}})
        self.connected.set()
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                self.acks.append(json.loads(msg.data))
        return ws

    async def push(self, envelope: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send_json(envelope)


@pytest.fixture
async def socket_desk(settings: Settings, db: Database, catalog: Database, clock: ManualClock,
                      fake_platform: Callable[..., Any]) -> AsyncIterator[tuple[Desk,
                                                                                FakeSocket]]:
    sock = FakeSocket()
    app = web.Application()
    app.router.add_get("/link", sock.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    sock.url = f"ws://127.0.0.1:{port}/link"
    slack: list[FakePlatform] = []
    base = slack_answer()

    def answer(request: Received) -> Any:
        if request.path.endswith("/apps.connections.open"):
            return {"ok": True, "url": sock.url}
        return base(request)

    async def extra() -> dict[str, Any]:
        slack.append(await fake_platform(answer))
        return {**slack_overrides(slack[0].url), "slack.app_token": "xapp-1-test"}

    async with running_chat(settings, db, clock, fake_platform, extra) as chat:
        services = chat.app.state.services
        assert services.slack is not None
        await services.slack.start_socket_mode()
        await asyncio.wait_for(sock.connected.wait(), 10)
        yield Desk(chat, slack[0]), sock
        await services.slack.stop()
    await runner.cleanup()


async def _acked(sock: FakeSocket, envelope_id: str) -> dict[str, Any]:
    for _ in range(200):
        found = [a for a in sock.acks if a.get("envelope_id") == envelope_id]
        if found:
            return found[0]
        await asyncio.sleep(0.02)
    raise AssertionError(f"{envelope_id} was never acknowledged")


async def test_slash_command_over_socket_mode_logs_a_call(
        socket_desk: tuple[Desk, FakeSocket]) -> None:
    desk, sock = socket_desk
    await sock.push({"envelope_id": "env-cmd-1", "type": "slash_commands",
                     "accepts_response_payload": True, "payload": {
                         "token": "x", "team_id": "T0SHOP", "channel_id": "C0FRONT",
                         "user_id": LAN, "command": "/ticket",
                         "text": "0912 345 678 khách gọi báo đơn DH24043942 giao chậm 3 ngày",
                         "trigger_id": "trig-sock-1", "api_app_id": "A0APP",
                         "response_url": f"{desk.slack.url}/respond/trig-sock-1"}})
    await _acked(sock, "env-cmd-1")
    await desk.until(lambda: desk.chat.tickets(), "the hotline ticket")
    [ticket] = desk.chat.tickets()
    assert ticket["channel"] == "phone"


async def test_events_over_socket_mode_thread_note_and_stranger(
        socket_desk: tuple[Desk, FakeSocket]) -> None:
    desk, sock = socket_desk
    from tests.connectors.slack.test_desk import complaint

    await complaint(desk)
    card_ts = desk.card_ts()

    def event(envelope_id: str, user: str, text: str, ts: str) -> dict[str, Any]:
        return {"envelope_id": envelope_id, "type": "events_api",
                "accepts_response_payload": False, "retry_attempt": 0, "retry_reason": "",
                "payload": {"token": "x", "team_id": "T0SHOP", "api_app_id": "A0APP",
                            "type": "event_callback", "event_id": f"Ev{envelope_id}",
                            "event_time": int(time.time()),
                            "event": {"type": "message", "channel": "C0COMPLAIN",
                                      "user": user, "text": text, "ts": ts,
                                      "thread_ts": card_ts}}}

    await sock.push(event("env-1", LAN, "đã gọi cho khách, chờ NCC xác nhận",
                          "1795000500.000100"))
    await _acked(sock, "env-1")
    await desk.until(lambda: ("note", "lan") in journal_actions(desk), "the note")
    await sock.push(event("env-2", STRANGER, "tôi trả lời khách nhé", "1795000501.000100"))
    await _acked(sock, "env-2")
    refused = await desk.until(lambda: desk.calls("chat.postEphemeral"), "the refusal")
    assert refused[-1]["user"] == STRANGER
    # a redelivered envelope (Slack's retry) does not act twice
    await sock.push(event("env-1", LAN, "đã gọi cho khách, chờ NCC xác nhận",
                          "1795000500.000100"))
    await asyncio.sleep(0.3)
    await desk.chat.settle()
    assert journal_actions(desk).count(("note", "lan")) == 1
