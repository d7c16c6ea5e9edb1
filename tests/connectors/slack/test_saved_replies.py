"""Saved replies from Slack, end to end against the fake Slack Web API: the *Saved reply*
menu fills the *Reply to customer* form, *Send* sends what the box holds (or the chosen
reply when the box is empty), `/reply <code> <ticket>` sends at once; a reply the ticket
cannot fill is refused naming the variable, and nothing reaches the customer."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import select, update

from tests.connectors.chat import PAGE_ID
from tests.connectors.slack.conftest import LAN, STRANGER, Desk
from tests.connectors.slack.test_desk import complaint
from tickets.schema import customers, journal, messages, tickets


def sent_to_customer(desk: Desk) -> list[str]:
    """What agents sent the customer (the automatic acknowledgement left out), each of it
    delivered through the fake Graph API."""
    with desk.chat.rt.db.read() as conn:
        answers = [str(t) for t in conn.execute(select(messages.c.text).where(
            messages.c.direction == "out", messages.c.author_kind == "agent")
            .order_by(messages.c.id)).scalars()]
    delivered = [r.json()["message"]["text"]
                 for r in desk.chat.graph.calls(f"/{PAGE_ID}/messages")]
    assert all(a in delivered for a in answers)
    return answers


def saved_in_journal(desk: Desk, ticket_id: int = 1) -> list[str | None]:
    with desk.chat.rt.db.read() as conn:
        return [(r.data or {}).get("saved") for r in conn.execute(
            select(journal.c.data).where(journal.c.ticket_id == ticket_id,
                                         journal.c.action == "replied"))]


def name_customer(desk: Desk, name: str, ticket_id: int = 1) -> None:
    with desk.chat.rt.db.write() as conn:
        customer = conn.execute(select(tickets.c.customer_id).where(
            tickets.c.id == ticket_id)).scalar()
        conn.execute(update(customers).where(customers.c.id == customer).values(name=name))


def view_of(call: dict[str, Any]) -> dict[str, Any]:
    view = call["view"]
    return json.loads(view) if isinstance(view, str) else dict(view)


def block(view: dict[str, Any], prefix: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if str(b.get("block_id", "")).startswith(prefix))


def modal_state(ticket_id: int, code: str | None, box: str, text: str | None
                ) -> dict[str, Any]:
    values: dict[str, Any] = {box: {"text": {"type": "plain_text_input", "value": text}}}
    if code:
        values["saved"] = {"sb_saved_pick": {"type": "static_select", "selected_option": {
            "text": {"type": "plain_text", "text": code}, "value": code}}}
    return {"id": "V0REPLY", "hash": f"h-{time.time_ns()}", "callback_id": "sb_reply_modal",
            "private_metadata": str(ticket_id), "type": "modal",
            "blocks": [{"type": "input", "block_id": "saved"},
                       {"type": "input", "block_id": box}],
            "state": {"values": values}}


async def pick(desk: Desk, ticket_id: int, code: str) -> httpx.Response:
    """The agent chooses a saved reply in the open form."""
    payload = {"type": "block_actions", "user": {"id": LAN}, "api_app_id": "A0APP",
               "token": "x", "team": {"id": "T0SHOP"}, "trigger_id": "trig-pick",
               "container": {"type": "view", "view_id": "V0REPLY"},
               "view": modal_state(ticket_id, None, "reply", None),
               "actions": [{"action_id": "sb_saved_pick", "block_id": "saved",
                            "type": "static_select", "action_ts": f"{time.time():.6f}",
                            "selected_option": {"text": {"type": "plain_text", "text": code},
                                                "value": code}}]}
    body = urlencode({"payload": json.dumps(payload)}).encode()
    return await desk.signed(body, "application/x-www-form-urlencoded")


async def submit(desk: Desk, ticket_id: int, code: str | None, box: str,
                 text: str | None) -> httpx.Response:
    payload = {"type": "view_submission", "user": {"id": LAN}, "team": {"id": "T0SHOP"},
               "api_app_id": "A0APP", "token": "x", "trigger_id": "t",
               "view": modal_state(ticket_id, code, box, text)}
    body = urlencode({"payload": json.dumps(payload)}).encode()
    return await desk.signed(body, "application/x-www-form-urlencoded")


async def test_the_menu_fills_the_form_and_send_sends_what_the_box_holds(desk: Desk) -> None:
    await complaint(desk)
    name_customer(desk, "Trần Văn Nam")
    await desk.action(LAN, "sb_reply", "1", "C0COMPLAIN", desk.card_ts())
    opened = await desk.until(lambda: desk.calls("views.open"), "the form")
    menu = block(view_of(opened[0]), "saved")
    assert menu["element"]["action_id"] == "sb_saved_pick" and menu["dispatch_action"]
    assert "voucher_how" in [o["value"] for o in menu["element"]["options"]]

    await pick(desk, 1, "voucher_how")
    updated = await desk.until(lambda: desk.calls("views.update"), "the filled form")
    form = view_of(updated[0])
    box = block(form, "reply-")  # a new block, so Slack shows the new text
    filled = box["element"]["initial_value"]
    assert filled.startswith("Dạ em chào anh Nam.") and "DH25220868" in filled
    assert block(form, "saved")["element"]["initial_option"]["value"] == "voucher_how"
    assert sent_to_customer(desk) == []  # filling sends nothing

    edited = filled + "\nEm gửi thêm mã giảm giá 50.000đ cho anh ạ."
    answer = await submit(desk, 1, "voucher_how", box["block_id"], edited)
    assert answer.status_code == 200 and not answer.content.strip()
    await desk.chat.settle()
    assert sent_to_customer(desk) == [edited]  # typed text wins: the agent's edit is sent
    assert saved_in_journal(desk) == ["voucher_how"]
    assert any(t.startswith("📤 *lan*") for t in desk.thread(desk.card_ts()))


async def test_an_empty_box_sends_the_chosen_reply_as_it_is(desk: Desk) -> None:
    await complaint(desk)
    answer = await submit(desk, 1, "refund_time", "reply", None)
    assert answer.status_code == 200 and not answer.content.strip()
    await desk.chat.settle()
    [text] = sent_to_customer(desk)
    assert text.startswith("Dạ em chào quý khách. Yêu cầu hoàn tiền cho đơn DH25220868")
    assert saved_in_journal(desk) == ["refund_time"]


async def test_a_reply_the_ticket_cannot_fill_is_refused_naming_the_variable(
        desk: Desk) -> None:
    await complaint(desk, text="Sao app không đăng nhập được vậy shop")  # names no order
    await pick(desk, 1, "wrong_item")
    updated = await desk.until(lambda: desk.calls("views.update"), "the form with the note")
    form = view_of(updated[0])
    note = json.dumps(form["blocks"], ensure_ascii=False)
    assert "order.product" in note and "initial_value" not in note
    assert block(form, "reply")["block_id"] == "reply"  # what the agent typed stays

    refused = await submit(desk, 1, "wrong_item", "reply", "")
    assert refused.status_code == 200
    errors = refused.json()
    assert errors["response_action"] == "errors" and "order.product" in errors["errors"]["saved"]
    await desk.quiet()
    assert sent_to_customer(desk) == [] and saved_in_journal(desk) == []


async def test_slash_reply_sends_a_saved_reply_and_answers_ephemerally(desk: Desk) -> None:
    await complaint(desk)
    name_customer(desk, "Lê Thị Hương")
    await desk.command(LAN, "/reply", "ask_photos MC-1", trigger="trig-r1")
    answered = await desk.until(desk.responses, "the answer")
    assert answered[0]["response_type"] == "ephemeral"
    assert answered[0]["text"].startswith("📤 MC-1: đã gửi cho khách mẫu `ask_photos` (vi)")
    await desk.chat.settle()
    [text] = sent_to_customer(desk)
    assert text.startswith("Dạ em chào chị Hương.") and "đơn DH25220868" in text
    assert text in answered[0]["text"].replace("> ", "")
    assert saved_in_journal(desk) == ["ask_photos"]
    assert any(t.startswith("📤 *lan*") for t in desk.thread(desk.card_ts()))

    for n, (words, expected) in enumerate([
        ("#MC-1 nope", "no saved reply 'nope'"),  # either order; unknown codes named
        ("wrong_item 99", "MC-99 no longer exists"),
        ("refund_time", "usage: `/reply <mã mẫu> <mã phiếu>`"),
        ("", "• `refund_time` — Thời gian hoàn tiền"),  # alone: the list
    ], start=2):
        await desk.command(LAN, "/reply", words, trigger=f"trig-r{n}")
        answer = await desk.until(lambda n=n: desk.responses()[n - 1:], words or "the list")
        assert expected in answer[0]["text"], answer[0]["text"]
    await desk.command(STRANGER, "/reply", "refund_time MC-1", trigger="trig-r9")
    refused = await desk.until(lambda: desk.responses()[5:], "the refusal")
    assert "not a configured agent" in refused[0]["text"]
    await desk.chat.settle()
    assert len(sent_to_customer(desk)) == 1


async def test_slash_reply_refuses_a_variable_the_ticket_lacks(desk: Desk) -> None:
    await complaint(desk, text="Sao app không đăng nhập được vậy shop")
    await desk.command(LAN, "/reply", "wrong_item MC-1", trigger="trig-w1")
    answered = await desk.until(desk.responses, "the refusal")
    assert "MC-1" in answered[0]["text"] and "'wrong_item' needs order.product" in \
        answered[0]["text"] and "nothing was sent" in answered[0]["text"]
    await desk.quiet()
    assert sent_to_customer(desk) == []
