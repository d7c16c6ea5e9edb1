"""The page webhook through the real app: Messenger and page comments in, answers out
through a fake Graph API, and everything a platform does that a happy path does not."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.facebook import webhook as facebook
from connectors.webhooks import WebhookError
from tests.connectors.chat import PAGE_ID, Chat, fixture, fixture_json
from tests.connectors.fakes import Scripted

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def fresh(name: str) -> dict[str, Any]:
    """A fixture as if sent now (the chat fixture's clock): Messenger's 24-hour window is
    counted from the customer's message time, which the real payloads set years ago."""
    body: dict[str, Any] = fixture_json("facebook", name)
    for entry in body["entry"]:
        for event in entry.get("messaging", []):
            event["timestamp"] = int(NOW.timestamp() * 1000)
    return body


def with_text(name: str, text: str, mid: str | None = None) -> bytes:
    body = fresh(name)
    message = body["entry"][0]["messaging"][0]["message"]
    message["text"] = text
    if mid:
        message["mid"] = mid
    return json.dumps(body, ensure_ascii=False).encode()


def comment(comment_id: str, author: str, text: str, post: str = f"{PAGE_ID}_4422",
            verb: str = "add", created: int = 1795000000) -> bytes:
    body = fixture_json("facebook", "feed_comment_add.json")
    value = body["entry"][0]["changes"][0]["value"]
    value.update(comment_id=comment_id, post_id=post, parent_id=post, message=text,
                 verb=verb, created_time=created)
    value["from"] = {"id": author, "name": f"Người dùng {author}"}
    return json.dumps(body, ensure_ascii=False).encode()


# -- the parser on each real payload -----------------------------------------------------

@pytest.mark.parametrize(("name", "messages", "ignored"), [
    ("messenger_text.json", 1, 0),
    ("messenger_text_quick_reply.json", 1, 0),
    ("messenger_image_attachment.json", 1, 0),
    ("messenger_postback.json", 1, 0),
    ("messenger_two_messages_batched.json", 2, 0),
    ("messenger_echo.json", 0, 1),
    ("messenger_delivery.json", 0, 1),
    ("messenger_read.json", 0, 1),
    ("feed_comment_add.json", 1, 0),
    ("feed_comment_edited.json", 1, 0),
    ("feed_comment_by_page.json", 0, 1),
    ("feed_comment_remove.json", 0, 1),
    ("feed_reaction.json", 0, 1),
    ("feed_post_status.json", 0, 1),
])
def test_each_payload_becomes_messages_or_is_ignored(name: str, messages: int,
                                                     ignored: int) -> None:
    parsed = facebook.parse(fixture_json("facebook", name), NOW)
    assert (len(parsed.messages), len(parsed.ignored)) == (messages, ignored)
    for message in parsed.messages:
        assert message.external_id and message.sender and message.text


def test_fields_that_matter_are_kept() -> None:
    image = facebook.parse(fixture_json("facebook", "messenger_image_attachment.json"), NOW)
    assert image.messages[0].attachments and image.messages[0].attachments[0].url
    quick = facebook.parse(fixture_json("facebook", "messenger_text_quick_reply.json"), NOW)
    assert quick.messages[0].meta["quick_reply"]
    postback = facebook.parse(fixture_json("facebook", "messenger_postback.json"), NOW)
    assert postback.messages[0].meta["postback"]
    added = facebook.parse(fixture_json("facebook", "feed_comment_add.json"), NOW).messages[0]
    assert added.conversation == f"facebook:{added.meta['post_id']}:{added.sender}"
    edited = facebook.parse(fixture_json("facebook", "feed_comment_edited.json"),
                            NOW).messages[0]
    assert edited.text.startswith("[đã sửa bình luận")


@pytest.mark.parametrize(("body", "reason"), [
    ({"object": "user", "entry": []}, "object must be 'page'"),
    ({"object": "page"}, "missing field entry"),
    ({"object": "page", "entry": [{"id": "1", "messaging": [{"message": {"mid": "m"}}]}]},
     "missing field sender.id"),
    ({"object": "page", "entry": [{"id": "1", "messaging": [
        {"sender": {"id": "2"}, "message": {"text": "no mid"}}]}]}, "missing field mid"),
    ({"object": "page", "entry": [{"id": "1", "changes": [{"field": "feed"}]}]},
     "with a value"),
])
def test_malformed_payloads_name_what_is_wrong(body: dict[str, Any], reason: str) -> None:
    with pytest.raises(WebhookError) as caught:
        facebook.parse(body, NOW)
    assert caught.value.status == 400 and reason in caught.value.reason


# -- through the app ------------------------------------------------------------------

async def test_subscription_handshake(chat: Chat) -> None:
    ok = await chat.client.get("/webhooks/messenger", params={
        "hub.mode": "subscribe", "hub.verify_token": "fb-verify", "hub.challenge": "1158201444"})
    assert (ok.status_code, ok.text) == (200, "1158201444")
    wrong = await chat.client.get("/webhooks/messenger", params={
        "hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"})
    assert wrong.status_code == 403
    mode = await chat.client.get("/webhooks/messenger", params={"hub.verify_token": "x"})
    assert mode.status_code == 400


async def test_message_to_ticket_ack_and_agent_answer(chat: Chat) -> None:
    body = with_text("messenger_text.json",
                     "Mình mua voucher buffet Sen Tây Hồ mà nhà hàng không nhận, "
                     "đơn DH25220868")
    answer = await chat.messenger(body)
    assert answer.status_code == 200 and answer.json()["queued"] == 1
    await chat.settle()
    ticket = await chat.ticket("MC-1")
    assert (ticket["channel"], ticket["category"]) == ("messenger", "supplier")
    psid = fixture_json("facebook", "messenger_text.json")["entry"][0]["messaging"][0][
        "sender"]["id"]
    sends = chat.graph.calls(f"/{PAGE_ID}/messages")
    assert len(sends) == 1  # the acknowledgement
    ack = sends[0].json()
    assert ack["recipient"] == {"id": psid} and "MC-1" in ack["message"]["text"]
    assert sends[0].query["access_token"] == "fb-page-token"

    reply = await chat.reply("MC-1", "Chào bạn, shop đã liên hệ nhà hàng, bạn thử lại nhé.")
    assert reply.status_code == 202
    await chat.settle()
    sends = chat.graph.calls(f"/{PAGE_ID}/messages")
    assert sends[-1].json() == {"recipient": {"id": psid}, "messaging_type": "RESPONSE",
                                "message": {"text": "Chào bạn, shop đã liên hệ nhà hàng, "
                                                    "bạn thử lại nhé."}}
    shown = (await chat.ticket("MC-1"))["messages"]
    assert [m["delivery"] for m in shown if m["direction"] == "out"] == ["sent", "sent"]


async def test_replays_and_batches_store_each_message_once(chat: Chat) -> None:
    body = json.dumps(fresh("messenger_two_messages_batched.json")).encode()
    first = (await chat.messenger(body)).json()
    again = (await chat.messenger(body)).json()
    assert (first["queued"], again["queued"], again["duplicates"]) == (2, 0, 2)
    await chat.settle()
    assert (await chat.messenger(body)).status_code == 200  # after processing too
    await chat.settle()
    assert len(chat.tickets()) == 2
    for ticket in chat.tickets():
        shown = (await chat.ticket(ticket["ref"]))["messages"]
        assert len([m for m in shown if m["direction"] == "in"]) == 1


async def test_out_of_order_messages_join_one_ticket(chat: Chat) -> None:
    later = with_text("messenger_text.json", "Sao chưa ai trả lời vậy?", mid="m_later")
    earlier = with_text("messenger_text.json", "Đơn DH25220868 chưa giao", mid="m_earlier")
    later_data = json.loads(later)
    later_data["entry"][0]["messaging"][0]["timestamp"] += 60_000
    await chat.messenger(json.dumps(later_data).encode())
    await chat.messenger(earlier)
    await chat.settle()
    tickets = chat.tickets()
    assert len(tickets) == 1
    texts = [m["text"] for m in (await chat.ticket("MC-1"))["messages"]
             if m["direction"] == "in"]
    assert sorted(texts) == sorted(["Sao chưa ai trả lời vậy?", "Đơn DH25220868 chưa giao"])


@pytest.mark.parametrize(("signature", "status"), [
    ("", 401), ("sha256=" + "0" * 64, 403), ("sha1=abc", 403), ("garbage", 403)])
async def test_bad_or_missing_signature_is_refused_and_nothing_stored(
        chat: Chat, signature: str, status: int) -> None:
    answer = await chat.messenger(fixture("facebook", "messenger_text.json"), signature)
    assert answer.status_code == status
    assert chat.waiting() == 0


async def test_signature_is_checked_on_the_exact_bytes(chat: Chat) -> None:
    body = fixture("facebook", "messenger_text.json")
    reserialised = json.dumps(json.loads(body), separators=(",", ":")).encode()
    from connectors.webhooks import hmac_sha256_hex
    signed_other = "sha256=" + hmac_sha256_hex("fb-app-secret", body)
    assert (await chat.messenger(reserialised, signed_other)).status_code == 403


async def test_malformed_unknown_and_oversized(chat: Chat) -> None:
    assert (await chat.messenger(b"{not json")).status_code == 400
    assert (await chat.messenger(b'"a string"')).status_code == 400
    for name in ("messenger_echo.json", "messenger_delivery.json", "messenger_read.json",
                 "feed_reaction.json"):
        answer = await chat.messenger(fixture("facebook", name))
        assert answer.status_code == 200 and answer.json()["ignored"] == 1, name
    huge = b'{"object": "page", "entry": [], "pad": "' + b"x" * 1_100_000 + b'"}'
    assert (await chat.messenger(huge)).status_code == 413
    assert chat.waiting() == 0


async def test_graph_errors_are_retried_then_shown_to_the_agent(chat: Chat) -> None:
    # an error, then slower than the 0.5 s send timeout the chat fixture configures
    chat.graph.script = [Scripted(status=500), Scripted(delay=1.0)]
    await chat.messenger(with_text("messenger_text.json", "Hàng bị vỡ"))
    await chat.settle()
    rows = chat.outbox_rows()
    assert rows[0]["status"] == "pending" and "500" in rows[0]["last_error"]
    chat.clock.advance(timedelta(minutes=5))
    await chat.settle()
    assert "did not answer in time" in chat.outbox_rows()[0]["last_error"]
    chat.clock.advance(timedelta(minutes=5))
    await chat.settle()
    assert chat.outbox_rows()[0]["status"] == "sent"
    assert len(chat.graph.calls(f"/{PAGE_ID}/messages")) == 3

    chat.graph.script = [Scripted(status=500)] * 3
    await chat.reply("MC-1", "Bên mình đã ghi nhận.")
    for _ in range(3):
        await chat.settle()
        chat.clock.advance(timedelta(minutes=5))
    last = (await chat.ticket("MC-1"))["messages"][-1]
    assert last["delivery"] == "failed" and "500" in last["delivery_error"]
    journal = [j["action"] for j in (await chat.ticket("MC-1"))["journal"]]
    assert "delivery_failed" in journal


async def test_messenger_window_refusals_are_final_and_explained(chat: Chat) -> None:
    await chat.messenger(with_text("messenger_text.json", "Hàng bị vỡ"))
    await chat.settle()
    chat.graph.script = [Scripted(status=400, body={"error": {
        "message": "(#10) This message is sent outside of allowed window.", "type":
        "OAuthException", "code": 10, "error_subcode": 2018278, "fbtrace_id": "A1"}})]
    await chat.reply("MC-1", "Trả lời muộn")
    await chat.settle()
    last = (await chat.ticket("MC-1"))["messages"][-1]
    assert last["delivery"] == "failed" and "24-hour window" in last["delivery_error"]
    chat.clock.advance(timedelta(hours=25))
    late = await chat.reply("MC-1", "Sau 25 giờ")
    assert late.status_code == 409 and "24-hour window" in late.json()["detail"]


async def test_comments_one_ticket_per_commenter_per_post(chat: Chat) -> None:
    await chat.messenger(comment("4422_1", "u-lan", "Voucher Sen Tây Hồ bị nhà hàng từ chối"))
    await chat.messenger(comment("4422_2", "u-minh", "Shop giao hàng chậm quá"))
    await chat.messenger(comment("4422_3", "u-lan", "Có ai trả lời không?"))
    await chat.messenger(comment("4422_4", PAGE_ID, "Shop đã inbox bạn ạ"))
    await chat.messenger(comment("4422_1", "u-lan", "Voucher Sen Tây Hồ bị từ chối (sửa)",
                                 verb="edited", created=1795000100))
    await chat.settle()
    tickets = sorted(chat.tickets(), key=lambda t: t["ref"])
    assert len(tickets) == 2
    lan = await chat.ticket("MC-1")
    assert len([m for m in lan["messages"] if m["direction"] == "in"]) == 3
    assert chat.graph.received == []  # comments are not acknowledged in public

    assert (await chat.reply("MC-1", "Chào bạn, shop đã nhắn tin riêng.")).status_code == 202
    await chat.settle()
    replies = chat.graph.calls("/comments")
    assert len(replies) == 1 and replies[0].path.endswith("/4422_1/comments")
    assert replies[0].json() == {"message": "Chào bạn, shop đã nhắn tin riêng."}


async def test_comment_reply_can_also_go_privately(chat: Chat) -> None:
    messenger = chat.rt.settings.channels.messenger.model_copy(update={"private_replies": True})
    chat.rt.settings = chat.rt.settings.model_copy(update={"channels": chat.rt.settings.channels
                                                           .model_copy(update={
                                                               "messenger": messenger})})
    await chat.messenger(comment("9_1", "u-an", "Sản phẩm lỗi"))
    await chat.settle()
    await chat.reply("MC-1", "Shop đã nhắn riêng cho bạn.")
    await chat.settle()
    private = chat.graph.calls(f"/{PAGE_ID}/messages")
    assert private and private[-1].json()["recipient"] == {"comment_id": "9_1"}
