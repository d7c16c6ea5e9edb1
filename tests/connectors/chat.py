"""The chat channels end to end in one process: the real app (webhooks, API, inbox writer,
the Telegram bot) over httpx's ASGI transport, the pipeline and the outbox dispatcher run
step by step, and each platform's API faked on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from connectors.web_comments.webhook import sign as sign_web
from connectors.webhooks import hmac_sha256_hex
from connectors.zalo.webhook import signature as zalo_signature
from switchboard import bootstrap
from switchboard.bootstrap import Runtime
from switchboard.outbox.dispatcher import Dispatcher
from switchboard.settings import Settings, load_settings
from switchboard.web import create_app
from switchboard.wiring.slack import delivery_notices
from tests.conftest import CONFIG
from tests.connectors.fakes import FakePlatform, Received
from tickets import inbox, queries
from tickets.clock import ManualClock
from tickets.database import Database
from tickets.schema import outbox

FIXTURES = Path(__file__).resolve().parent
ADMIN = {"Authorization": "Bearer admin-secret"}
PAGE_ID = "1134713619900975"
APP_SECRET = "fb-app-secret"
ZALO_APP = "3456789012345678901"
ZALO_OA = "579745863508352884"
ZALO_KEY = "zalo-oa-secret"
TG_TOKEN = "123456:TEST-token"
TG_SECRET = "tg-webhook-secret"
WEB_SECRET = "web-comment-secret"


def fixture(channel: str, name: str) -> bytes:
    return (FIXTURES / channel / "fixtures" / name).read_bytes()


def fixture_json(channel: str, name: str) -> Any:
    return json.loads(fixture(channel, name))


def graph_answer(request: Received) -> Any:
    if request.path.endswith("/messages"):
        return {"recipient_id": "r", "message_id": f"m_sent_{len(request.body)}"}
    return {"id": f"{request.path.split('/')[-2]}_reply"}


def zalo_answer(request: Received) -> Any:
    return {"error": 0, "message": "Success",
            "data": {"message_id": f"zm-{uuid.uuid4().hex[:12]}", "user_id": "u"}}


def telegram_answer(request: Received) -> Any:
    method = request.path.rsplit("/", 1)[-1]
    if method == "sendMessage":
        form = request.form()
        return {"ok": True, "result": {
            "message_id": 500 + len(request.body) % 100, "date": int(time.time()),
            "chat": {"id": int(form["chat_id"]), "type": "private"}, "text": form["text"]}}
    return {"ok": True, "result": True}


def web_answer(request: Received) -> Any:
    return {"ok": True}


@dataclass
class Chat:
    rt: Runtime
    clock: ManualClock
    app: FastAPI
    client: httpx.AsyncClient
    dispatcher: Dispatcher
    graph: FakePlatform
    zalo: FakePlatform
    telegram: FakePlatform
    web: FakePlatform

    async def post(self, path: str, body: bytes,
                   headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.client.post(path, content=body, headers={
            "Content-Type": "application/json", **(headers or {})})

    async def messenger(self, body: bytes, signature: str | None = None) -> httpx.Response:
        sig = signature if signature is not None else \
            "sha256=" + hmac_sha256_hex(APP_SECRET, body)
        return await self.post("/webhooks/messenger", body,
                               {"X-Hub-Signature-256": sig} if sig else {})

    async def zalo_event(self, body: bytes, signature: str | None = None) -> httpx.Response:
        if signature is None:
            try:
                stamp = str(json.loads(body).get("timestamp", ""))
            except ValueError:
                stamp = ""
            signature = "mac=" + zalo_signature(ZALO_APP, body, stamp, ZALO_KEY)
        return await self.post("/webhooks/zalo", body,
                               {"X-ZEvent-Signature": signature} if signature else {})

    async def telegram_update(self, body: bytes, secret: str | None = TG_SECRET,
                              ) -> httpx.Response:
        return await self.post("/webhooks/telegram", body,
                               {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {})

    async def web_comment(self, body: bytes, timestamp: str | None = None,
                          signature: str | None = None) -> httpx.Response:
        stamp = timestamp or str(int(self.rt.clock.now().timestamp()))
        sig = signature if signature is not None else sign_web(WEB_SECRET, stamp, body)
        return await self.post("/webhooks/web-comments", body, {
            "X-Switchboard-Timestamp": stamp, "X-Switchboard-Signature": sig})

    async def settle(self) -> None:
        """Run the pipeline, then the dispatcher, until neither has work left."""
        while await asyncio.to_thread(self.rt.pipeline.run_batch):
            pass
        while await self.dispatcher.run_once():
            pass

    async def ticket(self, ref: str) -> dict[str, Any]:
        response = await self.client.get(f"/api/tickets/{ref}", headers=ADMIN)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    async def reply(self, ref: str, text: str) -> httpx.Response:
        return await self.client.post(f"/api/tickets/{ref}/replies", json={"text": text},
                                      headers=ADMIN)

    def tickets(self) -> list[dict[str, Any]]:
        with self.rt.db.read() as conn:
            items, _ = queries.list_tickets(conn, "MC", queries.TicketFilter(), 100, 0)
        return items

    def waiting(self) -> int:
        """Messages in the durable inbox not yet processed."""
        with self.rt.db.read() as conn:
            return inbox.stats(conn).waiting

    def outbox_rows(self) -> list[dict[str, Any]]:
        with self.rt.db.read() as conn:
            return [dict(r._mapping) for r in conn.execute(
                outbox.select().order_by(outbox.c.id))]


def chat_overrides(graph: str, zalo: str, telegram: str, web: str) -> dict[str, Any]:
    return {
        "channels.messenger.enabled": True, "channels.messenger.page_id": PAGE_ID,
        "channels.messenger.app_secret": APP_SECRET,
        "channels.messenger.verify_token": "fb-verify",
        "channels.messenger.page_access_token": "fb-page-token",
        "channels.messenger.graph_url": f"{graph}/v21.0",
        "channels.zalo.enabled": True, "channels.zalo.app_id": ZALO_APP,
        "channels.zalo.secret_key": ZALO_KEY, "channels.zalo.access_token": "zalo-token",
        "channels.zalo.api_url": zalo,
        "channels.telegram.enabled": True, "channels.telegram.token": TG_TOKEN,
        "channels.telegram.webhook_secret": TG_SECRET, "channels.telegram.api_url": telegram,
        "channels.web_comments.enabled": True, "channels.web_comments.secret": WEB_SECRET,
        "channels.web_comments.callback_url": f"{web}/switchboard/answers",
        "channels.send_timeout": "500ms",
        "outbox.backoff_base": "1s", "outbox.max_attempts": 3,
    }


@contextlib.asynccontextmanager
async def running_chat(settings: Settings, db: Database, clock: ManualClock,
                       fake_platform: Callable[..., Any],
                       extra: Callable[[], Any] | None = None) -> AsyncIterator[Chat]:
    """The app with every chat channel on; `extra()` returns more overrides (awaited, so it
    can start more fakes first)."""
    graph = await fake_platform(graph_answer)
    zalo = await fake_platform(zalo_answer)
    telegram = await fake_platform(telegram_answer)
    web = await fake_platform(web_answer)
    more = await extra() if extra is not None else {}
    chat_settings = load_settings(
        CONFIG, environ={"SWITCHBOARD_ADMIN_TOKEN": "admin-secret",
                         "SWITCHBOARD_AGENT_TOKEN": "agent-secret",
                         "SWITCHBOARD_SECRET": "test-secret"},
        overrides={"database.url": settings.database.url,
                   **chat_overrides(graph.url, zalo.url, telegram.url, web.url), **more})
    runtime = bootstrap.build(chat_settings, clock)
    runtime.db.dispose()
    runtime.db = runtime.pipeline.db = db
    app = create_app(runtime, run_worker=False)
    async with app.router.lifespan_context(app):
        services = app.state.services
        dispatcher = Dispatcher(runtime.settings.outbox, runtime.db, runtime.clock,
                                services.senders(),
                                on_delivery=delivery_notices(runtime.settings))
        services.dispatcher = dispatcher  # so wake-ups reach it (it is run by hand here)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://switchboard") as c:
            yield Chat(runtime, clock, app, c, dispatcher, graph, zalo, telegram, web)


@pytest.fixture
async def chat(settings: Settings, db: Database, catalog: Database, clock: ManualClock,
               fake_platform: Callable[..., Any]) -> AsyncIterator[Chat]:
    async with running_chat(settings, db, clock, fake_platform) as running:
        yield running
