"""Zalo OA: signed events in, answers through a fake OA message API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.webhooks import WebhookError
from connectors.zalo import webhook as zalo
from tests.connectors.chat import ZALO_APP, ZALO_KEY, Chat, fixture, fixture_json
from tests.connectors.fakes import Scripted

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def event(name: str, **changes: Any) -> bytes:
    body = fixture_json("zalo", name)
    for key, value in changes.items():
        if key in ("text", "msg_id"):
            body["message"][key] = value
        else:
            body[key] = value
    return json.dumps(body, ensure_ascii=False).encode()


@pytest.mark.parametrize(("name", "messages"), [
    ("documented_user_send_text.json", 1), ("documented_user_send_image.json", 1),
    ("documented_user_send_file.json", 1), ("documented_follow.json", 0),
    ("documented_user_seen_message.json", 0)])
def test_documented_events(name: str, messages: int) -> None:
    parsed = zalo.parse(fixture_json("zalo", name), NOW)
    assert len(parsed.messages) == messages and len(parsed.ignored) == 1 - messages


def test_signature_is_sha256_of_app_id_body_timestamp_and_key() -> None:
    body = fixture("zalo", "documented_user_send_text.json")
    data = json.loads(body)
    good = "mac=" + zalo.signature(ZALO_APP, body, data["timestamp"], ZALO_KEY)
    zalo.verify(body, good, data, ZALO_APP, ZALO_KEY)
    for header, status in ((None, 401), ("mac=" + "0" * 64, 403)):
        with pytest.raises(WebhookError) as caught:
            zalo.verify(body, header, data, ZALO_APP, ZALO_KEY)
        assert caught.value.status == status
    with pytest.raises(WebhookError):  # signed for another app
        zalo.verify(body, good, dict(data, app_id="other"), ZALO_APP, ZALO_KEY)


async def test_text_to_ticket_ack_and_answer(chat: Chat) -> None:
    body = event("documented_user_send_text.json",
                 text="Thanh toán ví điện tử bị trừ tiền 2 lần mà đơn vẫn chưa xác nhận")
    assert (await chat.zalo_event(body)).status_code == 200
    await chat.settle()
    ticket = await chat.ticket("MC-1")
    assert (ticket["channel"], ticket["category"], ticket["topic"]) == \
        ("zalo", "service", "payment")
    user = fixture_json("zalo", "documented_user_send_text.json")["sender"]["id"]
    acks = chat.zalo.calls("/v3.0/oa/message/cs")
    assert len(acks) == 1 and acks[0].headers["access_token"] == "zalo-token"
    assert acks[0].json()["recipient"] == {"user_id": user}
    await chat.reply("MC-1", "Bên mình đã hoàn lại khoản trừ thừa.")
    await chat.settle()
    assert chat.zalo.calls("/v3.0/oa/message/cs")[-1].json() == {
        "recipient": {"user_id": user},
        "message": {"text": "Bên mình đã hoàn lại khoản trừ thừa."}}


async def test_image_and_file_events_keep_their_attachments(chat: Chat) -> None:
    await chat.zalo_event(fixture("zalo", "documented_user_send_image.json"))
    await chat.zalo_event(fixture("zalo", "documented_user_send_file.json"))
    await chat.settle()
    detail = await chat.ticket("MC-1")
    attachments = [a for m in detail["messages"] for a in m["attachments"]]
    assert len(attachments) == 2 and all(a["url"] for a in attachments)


async def test_replays_unknown_events_bad_signatures(chat: Chat) -> None:
    body = fixture("zalo", "documented_user_send_text.json")
    assert (await chat.zalo_event(body)).json()["queued"] == 1
    assert (await chat.zalo_event(body)).json()["duplicates"] == 1
    follow = await chat.zalo_event(fixture("zalo", "documented_follow.json"))
    assert follow.status_code == 200 and follow.json()["ignored"] == 1
    strange = await chat.zalo_event(event("documented_user_send_text.json",
                                          event_name="user_did_something_new"))
    assert strange.status_code == 200 and strange.json()["ignored"] == 1
    assert (await chat.zalo_event(event("documented_user_send_text.json", msg_id="z9"),
                                  "")).status_code == 401
    assert (await chat.zalo_event(event("documented_user_send_text.json", msg_id="z9"),
                                  "mac=00")).status_code == 403
    assert (await chat.zalo_event(b"{bad")).status_code == 400
    assert (await chat.zalo_event(b'{"pad": "' + b"x" * 1_100_000 + b'"}',
                                  "mac=00")).status_code == 413
    assert chat.waiting() == 1


async def test_zalo_errors_retry_or_fail_for_good(chat: Chat) -> None:
    chat.zalo.script = [Scripted(status=200, body={"error": -32, "message": "rate limit"})]
    await chat.zalo_event(fixture("zalo", "documented_user_send_text.json"))
    await chat.settle()
    assert chat.outbox_rows()[0]["status"] == "pending"
    chat.clock.advance(timedelta(minutes=5))
    await chat.settle()
    assert chat.outbox_rows()[0]["status"] == "sent"
    chat.zalo.script = [Scripted(status=200, body={
        "error": -213, "message": "User has not followed OA"})]
    await chat.reply("MC-1", "Xin chào")
    await chat.settle()
    last = (await chat.ticket("MC-1"))["messages"][-1]
    assert last["delivery"] == "failed" and "-213" in last["delivery_error"]


async def test_a_platform_reusing_message_ids_does_not_resend(chat: Chat) -> None:
    same = {"error": 0, "message": "Success", "data": {"message_id": "same-id"}}
    chat.zalo.script = [Scripted(body=same), Scripted(body=same)]
    await chat.zalo_event(fixture("zalo", "documented_user_send_text.json"))
    await chat.settle()
    await chat.reply("MC-1", "Xin chào")
    await chat.settle()
    await chat.settle()
    assert [r["status"] for r in chat.outbox_rows() if r["channel"] == "zalo"] == ["sent",
                                                                                 "sent"]
    assert len(chat.zalo.received) == 2
