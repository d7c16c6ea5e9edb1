"""The website's comment box: HMAC-signed posts in, signed callbacks out."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.web_comments.webhook import sign
from tests.connectors.chat import WEB_SECRET, Chat


def comment(comment_id: str, author_id: str, text: str, product: str = "p-12",
            **author: Any) -> bytes:
    return json.dumps({
        "comment_id": comment_id, "product_id": product,
        "product_name": "Buffet Sen Tây Hồ",
        "author": {"id": author_id, "name": "Lan", **author}, "text": text,
        "parent_id": None, "created_at": "2026-11-23T09:00:00+07:00"},
        ensure_ascii=False).encode()


async def test_comment_to_ticket_and_signed_answer(chat: Chat) -> None:
    body = comment("c-1", "u-77", "Voucher này nhà hàng không chấp nhận, lừa đảo à?",
                   email="lan@gmail.com")
    answer = await chat.web_comment(body)
    assert answer.status_code == 200 and answer.json()["queued"] == 1
    await chat.settle()
    assert chat.web.received == []  # no acknowledgement on a public comment box
    ticket = await chat.ticket("MC-1")
    assert ticket["channel"] == "web_comment" and ticket["supplier_id"]
    await chat.reply("MC-1", "Chào bạn, shop đã liên hệ nhà hàng.")
    await chat.settle()
    [callback] = chat.web.received
    assert callback.path == "/switchboard/answers"
    stamp = callback.headers["x-switchboard-timestamp"]
    assert callback.headers["x-switchboard-signature"] == sign(WEB_SECRET, stamp,
                                                               callback.body)
    sent = callback.json()
    assert (sent["comment_id"], sent["product_id"], sent["ticket"]) == ("c-1", "p-12", "MC-1")
    assert sent["text"] == "Chào bạn, shop đã liên hệ nhà hàng."
    assert callback.headers["idempotency-key"] == sent["reply_id"]


async def test_one_ticket_per_author_per_product(chat: Chat) -> None:
    await chat.web_comment(comment("c-1", "u-1", "Hàng lỗi"))
    await chat.web_comment(comment("c-2", "u-2", "Giao chậm quá"))
    await chat.web_comment(comment("c-3", "u-1", "Shop ơi trả lời đi"))
    await chat.web_comment(comment("c-3", "u-1", "Shop ơi trả lời đi"))  # a retry
    await chat.settle()
    assert len(chat.tickets()) == 2
    first = await chat.ticket("MC-1")
    assert len(first["messages"]) == 2


@pytest.mark.parametrize(("stamp", "signature", "status"), [
    ("now", "", 401), ("now", "sha256=" + "0" * 64, 403), ("old", None, 403),
    ("not-a-number", None, 403)])
async def test_bad_signatures_and_stale_timestamps(chat: Chat, stamp: str,
                                                   signature: str | None, status: int) -> None:
    body = comment("c-9", "u-9", "Hàng lỗi")
    now = int(chat.clock.now().timestamp())
    timestamp = {"now": str(now), "old": str(now - 3600)}.get(stamp, stamp)
    answer = await chat.web_comment(body, timestamp, signature)
    assert answer.status_code == status
    assert chat.waiting() == 0


@pytest.mark.parametrize(("body", "reason"), [
    (b"{nope", "malformed JSON"), (b"[]", "expected a JSON object"),
    (b'{"product_id": "p", "text": "x", "author": {"id": "u"}}', "missing field comment_id"),
    (b'{"comment_id": "c", "product_id": "p", "text": "x"}', "missing field author")])
async def test_malformed_comments(chat: Chat, body: bytes, reason: str) -> None:
    answer = await chat.web_comment(body)
    assert answer.status_code == 400 and reason in answer.json()["detail"]


async def test_oversized_comment(chat: Chat) -> None:
    answer = await chat.web_comment(comment("c-1", "u", "x" * 1_100_000))
    assert answer.status_code == 413
