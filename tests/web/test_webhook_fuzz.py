"""Hypothesis throws arbitrary bodies, headers and signatures at every registered webhook
and at Slack's endpoint: never a 500, and nothing reaches the inbox without a valid
signature. With a valid signature, an arbitrary JSON body is a 200 or a 400, never a 500."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.web_comments.webhook import sign as sign_web
from connectors.webhooks import hmac_sha256_hex
from connectors.zalo.webhook import signature as zalo_signature
from switchboard import bootstrap, channels
from switchboard.settings import Settings, load_settings
from switchboard.web import create_app
from tests.conftest import CONFIG
from tests.connectors.chat import (
    APP_SECRET,
    TG_SECRET,
    WEB_SECRET,
    ZALO_APP,
    ZALO_KEY,
    chat_overrides,
)
from tickets import inbox
from tickets.clock import ManualClock
from tickets.database import Database

NOWHERE = "http://127.0.0.1:9"  # the platforms' APIs: nothing is sent in these tests
SIGNATURE_HEADERS = ["x-hub-signature-256", "x-zevent-signature", "x-switchboard-signature",
                     "x-switchboard-timestamp", "x-telegram-bot-api-secret-token",
                     "x-slack-signature", "x-slack-request-timestamp", "content-type"]
FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                               max_size=6),
    max_leaves=20)
platform_keys = st.sampled_from(["object", "entry", "messaging", "changes", "event_name",
                                 "message", "sender", "recipient", "timestamp", "app_id",
                                 "update_id", "comment_id", "product_id", "author", "text",
                                 "type", "event", "challenge", "token"])
json_bodies = st.dictionaries(platform_keys | st.text(max_size=10), json_values, max_size=8)


@pytest.fixture
def client(settings: Settings, db: Database, clock: ManualClock) -> Iterator[TestClient]:
    every_channel = load_settings(
        CONFIG, environ={"SWITCHBOARD_SECRET": "test-secret"},
        overrides={"database.url": settings.database.url,
                   **chat_overrides(NOWHERE, NOWHERE, NOWHERE, NOWHERE),
                   "slack.enabled": True, "slack.bot_token": "xoxb-test-token",
                   "slack.signing_secret": "slack-signing-secret",
                   "slack.api_url": f"{NOWHERE}/api/"})
    runtime = bootstrap.build(every_channel, clock)
    runtime.db.dispose()
    runtime.db = runtime.pipeline.db = db
    with TestClient(create_app(runtime, run_worker=False)) as test_client:
        yield test_client


def _paths() -> list[str]:
    return [f"/webhooks/{spec.webhook.path}" for spec in channels.specs()] + ["/slack/events"]


def _waiting(db: Database) -> int:
    with db.read() as conn:
        return inbox.stats(conn).waiting


@given(path=st.sampled_from(_paths()), body=st.binary(max_size=3000) | json_bodies.map(
    lambda d: json.dumps(d).encode()),
       headers=st.dictionaries(st.sampled_from(SIGNATURE_HEADERS),
                               st.text(st.characters(min_codepoint=32, max_codepoint=126),
                                       max_size=80), max_size=4))
@FUZZ
def test_unsigned_input_is_refused_and_never_stored(client: TestClient, db: Database,
                                                    path: str, body: bytes,
                                                    headers: dict[str, str]) -> None:
    response = client.post(path, content=body, headers=headers)
    assert response.status_code < 500, response.text
    assert response.status_code in (400, 401, 403, 404, 413), (path, response.text)
    assert _waiting(db) == 0


def _signed(path: str, body: bytes, now: float) -> dict[str, str]:
    if path.endswith("/messenger"):
        return {"x-hub-signature-256": "sha256=" + hmac_sha256_hex(APP_SECRET, body)}
    if path.endswith("/zalo"):
        stamp = str(json.loads(body).get("timestamp") or "")
        return {"x-zevent-signature": "mac=" + zalo_signature(ZALO_APP, body, stamp, ZALO_KEY)}
    if path.endswith("/web-comments"):
        stamp = str(int(now))
        return {"x-switchboard-timestamp": stamp,
                "x-switchboard-signature": sign_web(WEB_SECRET, stamp, body)}
    return {"x-telegram-bot-api-secret-token": TG_SECRET}


@given(path=st.sampled_from([p for p in _paths() if p != "/slack/events"]),
       data=json_bodies)
@FUZZ
def test_signed_nonsense_is_a_clear_400_or_ignored(client: TestClient, clock: ManualClock,
                                                   path: str, data: dict[str, Any]) -> None:
    if path.endswith("/zalo"):  # Zalo signs for one app: the body names it
        data = {**data, "app_id": ZALO_APP}
    body = json.dumps(data).encode()
    response = client.post(path, content=body, headers=_signed(path, body,
                                                               clock.now().timestamp()))
    assert response.status_code in (200, 400), (path, response.status_code, response.text)
    if response.status_code == 400:
        assert response.json()["detail"]


def test_a_signed_message_is_stored_once(client: TestClient, db: Database,
                                         clock: ManualClock) -> None:
    """The control: the fixture's app does take a correctly signed message."""
    body = json.dumps({"comment_id": "c-1", "product_id": "p-1", "author": {"id": "u-1"},
                       "text": "Voucher này nhà hàng không nhận", "created_at":
                       time.strftime("%Y-%m-%dT%H:%M:%S+00:00")}).encode()
    headers = _signed("/webhooks/web-comments", body, clock.now().timestamp())
    assert client.post("/webhooks/web-comments", content=body,
                       headers=headers).status_code == 200
    assert _waiting(db) == 1
