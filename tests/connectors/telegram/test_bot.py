"""The Telegram bot (aiogram 3) in webhook mode, talking to a fake Bot API server."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from tests.connectors.chat import TG_TOKEN, Chat, fixture, fixture_json
from tests.connectors.fakes import Scripted


def update(name: str, update_id: int | None = None, text: str | None = None) -> bytes:
    body: dict[str, Any] = fixture_json("telegram", name)
    if update_id is not None:
        body["update_id"] = update_id
    if text is not None:
        body["message"]["text"] = text
    return json.dumps(body, ensure_ascii=False).encode()


def sends(chat: Chat) -> list[dict[str, str]]:
    return [r.form() for r in chat.telegram.calls(f"/bot{TG_TOKEN}/sendMessage")]


async def test_text_becomes_a_ticket_acked_and_answered_with_send_message(chat: Chat) -> None:
    body = update("message_text.json", text="Đơn DH25220868 giao tới hộp bị móp, máy hỏng")
    answer = await chat.telegram_update(body)
    assert answer.status_code == 200
    await chat.settle()
    ticket = await chat.ticket("MC-1")
    assert (ticket["channel"], ticket["category"]) == ("telegram", "product")
    chat_id = str(fixture_json("telegram", "message_text.json")["message"]["chat"]["id"])
    ack = sends(chat)
    assert len(ack) == 1 and ack[0]["chat_id"] == chat_id and "MC-1" in ack[0]["text"]

    assert (await chat.reply("MC-1", "Shop sẽ đổi máy mới cho bạn.")).status_code == 202
    await chat.settle()
    assert sends(chat)[-1] == {"chat_id": chat_id, "text": "Shop sẽ đổi máy mới cho bạn."}
    out = [m for m in (await chat.ticket("MC-1"))["messages"] if m["direction"] == "out"]
    assert [m["delivery"] for m in out] == ["sent", "sent"]
    assert out[-1]["external_id"].startswith(f"{chat_id}:")


async def test_photo_and_document_carry_their_files(chat: Chat) -> None:
    await chat.telegram_update(fixture("telegram", "message_photo.json"))
    await chat.telegram_update(fixture("telegram", "message_document.json"))
    await chat.settle()
    attachments = [a for t in chat.tickets()
                   for m in (await chat.ticket(t["ref"]))["messages"]
                   for a in m["attachments"]]
    assert len(attachments) == 2
    assert all(str(a.get("url", "")).startswith("tg-file:") for a in attachments)


async def test_start_greets_from_the_template_and_opens_no_ticket(chat: Chat) -> None:
    await chat.telegram_update(fixture("telegram", "command_start.json"))
    await chat.settle()
    assert chat.tickets() == []
    greeting = sends(chat)
    assert len(greeting) == 1 and "Switchboard" not in greeting[0]["text"]
    assert greeting[0]["text"].strip()


async def test_update_id_is_the_dedup_key(chat: Chat) -> None:
    body = update("message_text.json", update_id=777)
    await chat.telegram_update(body)
    await chat.telegram_update(body)
    await chat.settle()
    await chat.telegram_update(body)
    await chat.settle()
    detail = await chat.ticket("MC-1")
    assert len([m for m in detail["messages"] if m["direction"] == "in"]) == 1


async def test_edits_are_kept_and_stickers_ignored(chat: Chat) -> None:
    await chat.telegram_update(update("message_text.json", update_id=10))
    await chat.telegram_update(fixture("telegram", "edited_message.json"))
    assert (await chat.telegram_update(fixture("telegram", "sticker.json"))).status_code == 200
    await chat.settle()
    texts = [m["text"] for t in chat.tickets()
             for m in (await chat.ticket(t["ref"]))["messages"] if m["direction"] == "in"]
    assert any(t.startswith("[đã sửa / edited]") for t in texts)
    assert len(texts) == 2


@pytest.mark.parametrize(("secret", "status"), [(None, 401), ("wrong", 403)])
async def test_secret_token_is_required(chat: Chat, secret: str | None, status: int) -> None:
    answer = await chat.telegram_update(fixture("telegram", "message_text.json"), secret)
    assert answer.status_code == status
    assert chat.waiting() == 0


async def test_malformed_and_oversized(chat: Chat) -> None:
    assert (await chat.telegram_update(b"{nope")).status_code == 400
    assert (await chat.telegram_update(b'{"message": {}}')).status_code == 400
    huge = b'{"update_id": 1, "pad": "' + b"x" * 1_100_000 + b'"}'
    assert (await chat.telegram_update(huge)).status_code == 413
    assert chat.waiting() == 0


async def test_bot_api_errors_retry_and_blocked_users_fail_visibly(chat: Chat) -> None:
    chat.telegram.script = [Scripted(status=502, body={
        "ok": False, "error_code": 502, "description": "Bad Gateway"})]
    await chat.telegram_update(update("message_text.json", text="Hàng bị vỡ"))
    await chat.settle()
    assert chat.outbox_rows()[0]["status"] == "pending"
    chat.clock.advance(timedelta(minutes=5))
    await chat.settle()
    assert chat.outbox_rows()[0]["status"] == "sent"

    chat.telegram.script = [Scripted(status=403, body={
        "ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"})]
    await chat.reply("MC-1", "Bạn còn cần hỗ trợ không?")
    await chat.settle()
    last = (await chat.ticket("MC-1"))["messages"][-1]
    assert last["delivery"] == "failed" and "blocked" in last["delivery_error"]


async def test_long_polling_delivers_updates_to_the_inbox(fake_platform: Any) -> None:
    """Development mode: the connector polls getUpdates on the (fake) Bot API server."""
    import asyncio

    from connectors.telegram.bot import TelegramConnector, make_bot
    from tests.connectors.fakes import Received
    from tickets.messages import InboundMessage

    update_body = fixture_json("telegram", "message_text.json")
    served: list[int] = []

    def answer(request: Received) -> Any:
        method = request.path.rsplit("/", 1)[-1]
        if method == "getUpdates":
            if not served:
                served.append(1)
                return {"ok": True, "result": [update_body]}
            return {"ok": True, "result": []}
        if method == "getMe":
            return {"ok": True, "result": {"id": 123456, "is_bot": True,
                                           "first_name": "Switchboard", "username": "sb_bot"}}
        return {"ok": True, "result": True}

    fake = await fake_platform(answer)
    got: list[InboundMessage] = []

    async def deliver(message: InboundMessage) -> bool:
        got.append(message)
        return True

    connector = TelegramConnector(make_bot(TG_TOKEN, fake.url, timeout=2), deliver,
                                  lambda language: "Xin chào")
    task = asyncio.create_task(connector.poll())
    for _ in range(100):
        if got:
            break
        await asyncio.sleep(0.05)
    await connector.stop()
    await asyncio.wait_for(task, 5)
    assert [m.external_id for m in got] == [str(update_body["update_id"])]
    assert fake.calls("/deleteWebhook")  # polling and a webhook cannot both be set
