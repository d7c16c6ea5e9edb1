"""The Slack desk end to end: the app with Slack on, a fake Slack Web API recording what it
receives, and requests signed exactly as Slack signs them."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from switchboard.settings import Settings
from tests.connectors.chat import Chat, running_chat
from tests.connectors.fakes import FakePlatform, Received
from tickets.clock import ManualClock
from tickets.database import Database

SIGNING_SECRET = "slack-signing-secret"
CHANNELS = {"complaint_desk": "C0COMPLAIN", "front_line": "C0FRONT", "logistics": "C0LOGI",
            "customer_care": "C0CARE", "payments": "C0PAY", "tech_support": "C0TECH",
            "partner_relations": "C0PARTNER"}
LAN, MINH, STRANGER = "U0LAN", "U0MINH", "U0STRANGER"


def params(request: Received) -> dict[str, Any]:
    """What the Web API client sent: JSON, a form, or query parameters (it uses all three)."""
    data: dict[str, Any] = dict(request.query)
    if request.headers.get("content-type", "").startswith("application/json"):
        data.update(request.json())
    elif request.body:
        data.update(request.form())
    return data


def slack_answer() -> Callable[[Received], Any]:
    counter = itertools.count(1)

    def answer(request: Received) -> Any:
        method = request.path.rsplit("/", 1)[-1]
        given = params(request) if request.body else {}
        if method == "auth.test":
            return {"ok": True, "user_id": "U0BOT", "bot_id": "B0BOT", "team_id": "T0SHOP",
                    "user": "switchboard", "team": "Shop", "url": "https://shop.slack.com/"}
        if method == "chat.postMessage":
            ts = f"1795000{next(counter):03d}.000100"
            return {"ok": True, "channel": given.get("channel"), "ts": ts,
                    "message": {"text": given.get("text"), "ts": ts}}
        if method == "chat.update":
            return {"ok": True, "channel": given.get("channel"), "ts": given.get("ts")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": "1795000999.000100"}
        if method == "views.open":
            return {"ok": True, "view": {"id": "V0REPLY"}}
        return {"ok": True}
    return answer


@dataclass
class Desk:
    chat: Chat
    slack: FakePlatform

    def calls(self, method: str) -> list[dict[str, Any]]:
        return [params(r) for r in self.slack.received if r.path.endswith(f"/{method}")]

    def cards(self) -> list[dict[str, Any]]:
        return [c for c in self.calls("chat.postMessage") if "thread_ts" not in c]

    def thread(self, ts: str) -> list[str]:
        return [c["text"] for c in self.calls("chat.postMessage") if c.get("thread_ts") == ts]

    async def signed(self, body: bytes, content_type: str, timestamp: int | None = None,
                     signature: str | None = None,
                     headers: dict[str, str] | None = None) -> httpx.Response:
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        sig = signature if signature is not None else SignatureVerifier(
            SIGNING_SECRET).generate_signature(timestamp=stamp, body=body)
        return await self.chat.client.post("/slack/events", content=body, headers={
            "Content-Type": content_type, "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": sig, **(headers or {})})

    async def event(self, event: dict[str, Any], event_id: str,
                    headers: dict[str, str] | None = None) -> httpx.Response:
        body = json.dumps({"token": "x", "team_id": "T0SHOP", "api_app_id": "A0APP",
                           "type": "event_callback", "event_id": event_id,
                           "event_time": int(time.time()), "event": event}).encode()
        return await self.signed(body, "application/json", headers=headers)

    async def action(self, user: str, action_id: str, value: str, channel: str,
                     message_ts: str, select: bool = False,
                     action_ts: str | None = None) -> httpx.Response:
        action: dict[str, Any] = {"action_id": action_id, "block_id": "b",
                                  "action_ts": action_ts or f"{time.time():.6f}"}
        if select:
            action.update(type="static_select", selected_option={
                "text": {"type": "plain_text", "text": value}, "value": value})
        else:
            action.update(type="button", value=value)
        payload = {"type": "block_actions", "user": {"id": user, "username": user},
                   "api_app_id": "A0APP", "token": "x", "team": {"id": "T0SHOP"},
                   "trigger_id": f"trig-{action['action_ts']}",
                   "container": {"type": "message", "message_ts": message_ts,
                                 "channel_id": channel},
                   "channel": {"id": channel}, "message": {"ts": message_ts},
                   "response_url": f"{self.slack.url}/respond/actions",
                   "actions": [action]}
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self.signed(body, "application/x-www-form-urlencoded")

    async def submit_reply(self, user: str, ticket_id: int, text: str,
                           view_hash: str = "h1") -> httpx.Response:
        payload = {"type": "view_submission", "user": {"id": user}, "team": {"id": "T0SHOP"},
                   "api_app_id": "A0APP", "token": "x", "trigger_id": "t",
                   "view": {"id": "V0REPLY", "hash": view_hash, "callback_id": "sb_reply_modal",
                            "private_metadata": str(ticket_id), "type": "modal",
                            "state": {"values": {"reply": {"text": {
                                "type": "plain_text_input", "value": text}}}}}}
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self.signed(body, "application/x-www-form-urlencoded")

    async def command(self, user: str, command: str, text: str,
                      trigger: str = "trig-cmd") -> httpx.Response:
        body = urlencode({"token": "x", "team_id": "T0SHOP", "channel_id": "C0FRONT",
                          "user_id": user, "command": command, "text": text,
                          "trigger_id": trigger, "api_app_id": "A0APP",
                          "response_url": f"{self.slack.url}/respond/{trigger}"}).encode()
        return await self.signed(body, "application/x-www-form-urlencoded")

    async def until(self, check: Callable[[], Any], what: str) -> Any:
        """Bolt runs listeners after answering Slack: wait for their effect (running the
        pipeline and the outbox meanwhile, as the worker would)."""
        for _ in range(200):
            await self.chat.settle()
            found = check()
            if found:
                return found
            await asyncio.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what}")

    async def quiet(self) -> None:
        """Wait until every listener Bolt started after its ack has finished, so that a check
        that nothing happened is not passed merely because nothing had run yet."""
        for _ in range(500):
            running = [t for t in asyncio.all_tasks() if not t.done()
                       and "run_ack_function_asynchronously" in repr(t.get_coro())]
            if not running:
                await self.chat.settle()
                return
            await asyncio.sleep(0.01)
        raise AssertionError("Bolt's listeners did not finish")

    def card_ts(self, ticket_id: int = 1) -> str:
        """Where the ticket's current card is (as Slack answered when it was posted)."""
        from sqlalchemy import select

        from tickets.schema import slack_posts

        with self.chat.rt.db.read() as conn:
            ts = conn.execute(select(slack_posts.c.ts).where(
                slack_posts.c.ticket_id == ticket_id, slack_posts.c.current.is_(True))).scalar()
        assert ts, "the card is not posted"
        return str(ts)

    def responses(self) -> list[dict[str, Any]]:
        return [params(r) for r in self.slack.received if "/respond/" in r.path]


def slack_overrides(url: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "slack.enabled": True, "slack.bot_token": "xoxb-test-token",
        "slack.signing_secret": SIGNING_SECRET, "slack.api_url": f"{url}/api/",
        "routing.departments.customer_care.thread_messages": "customer",
        "agents": [
            {"name": "lan", "slack_user": LAN, "departments": list(CHANNELS), "max_open": 5},
            {"name": "minh", "slack_user": MINH, "role": "manager",
             "departments": ["complaint_desk", "front_line"]}],
    }
    for department, channel in CHANNELS.items():
        values[f"routing.departments.{department}.slack_channel"] = channel
    return values


@pytest.fixture
async def desk(settings: Settings, db: Database, catalog: Database, clock: ManualClock,
               fake_platform: Callable[..., Any]) -> AsyncIterator[Desk]:
    slack: list[FakePlatform] = []

    async def extra() -> dict[str, Any]:
        slack.append(await fake_platform(slack_answer()))
        return slack_overrides(slack[0].url)

    async with running_chat(settings, db, clock, fake_platform, extra) as chat:
        yield Desk(chat, slack[0])
