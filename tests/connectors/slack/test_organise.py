"""The card's *Merge · Split · Link* button against the fake Slack API: the form offers the
customer's messages, a split opens a new ticket, a link and a merge are journaled under the
agent, a resubmitted form acts once, and mistakes come back in the form."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import select

from tests.connectors.slack.conftest import LAN, STRANGER, Desk
from tests.connectors.slack.test_desk import complaint, journal_actions
from tickets.schema import messages, ticket_links, tickets


async def submit(desk: Desk, user: str, ticket_id: int, what: str, other: str = "",
                 message: str = "", view_hash: str = "h1") -> httpx.Response:
    values: dict[str, Any] = {"other": {"ref": {"type": "plain_text_input", "value": other}}}
    if what:
        values["what"] = {"what": {"type": "radio_buttons",
                                   "selected_option": {"value": what}}}
    if message:
        values["message"] = {"message": {"type": "static_select",
                                         "selected_option": {"value": message}}}
    payload = {"type": "view_submission", "user": {"id": user}, "team": {"id": "T0SHOP"},
               "api_app_id": "A0APP", "token": "x", "trigger_id": "t",
               "view": {"id": "V0ORG", "hash": view_hash, "callback_id": "sb_organise_modal",
                        "private_metadata": str(ticket_id), "type": "modal",
                        "state": {"values": values}}}
    body = urlencode({"payload": json.dumps(payload)}).encode()
    return await desk.signed(body, "application/x-www-form-urlencoded")


def errors(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 200
    return dict(json.loads(response.text or "{}").get("errors") or {}) if response.text else {}


async def test_split_link_and_merge_from_the_card(desk: Desk) -> None:
    await complaint(desk)
    await complaint(desk, mid="m_2", text="Thêm nữa: tài khoản của mình bị khóa, không "
                                          "đăng nhập được")
    rt = desk.chat.rt
    with rt.db.read() as conn:
        second = conn.execute(select(messages.c.id).where(messages.c.ticket_id == 1)
                              .order_by(messages.c.id.desc())).scalar()
    assert "sb_organise" in json.dumps(desk.cards()[0])
    await desk.action(LAN, "sb_organise", "1", "C0COMPLAIN", desk.card_ts())
    [opened] = await desk.until(lambda: desk.calls("views.open"), "the form")
    form = json.dumps(opened, ensure_ascii=False)
    assert "sb_organise_modal" in form and "tài khoản của mình bị khóa" in form

    assert errors(await submit(desk, LAN, 1, "split", message=str(second))) == {}
    await desk.until(lambda: ("split", "lan") in journal_actions(desk), "the split")
    with rt.db.read() as conn:
        moved = conn.execute(select(messages.c.ticket_id).where(
            messages.c.id == second)).scalar()
        new = conn.execute(select(tickets.c.category, tickets.c.linked_ticket_id).where(
            tickets.c.id == moved)).one()
    assert moved == 2 and new.linked_ticket_id == 1 and new.category == "service"

    assert errors(await submit(desk, LAN, 1, "related", other="MC-2", view_hash="h2")) == {}
    with rt.db.read() as conn:
        kinds = sorted(conn.execute(select(ticket_links.c.ticket_id, ticket_links.c.kind))
                       .all())
    assert kinds == [(1, "related"), (2, "related")]

    assert errors(await submit(desk, LAN, 1, "merge", other="mc-2", view_hash="h3")) == {}
    assert errors(await submit(desk, LAN, 1, "merge", other="mc-2", view_hash="h3")) == {}
    await desk.quiet()
    assert journal_actions(desk).count(("merged_into", "lan")) == 1
    with rt.db.read() as conn:
        assert conn.execute(select(tickets.c.status).where(tickets.c.id == 1)).scalar() \
            == "closed"
    assert any("merged into MC-2" in t for t in desk.thread(desk.card_ts()))


async def test_the_form_explains_mistakes_and_refuses_strangers(desk: Desk) -> None:
    await complaint(desk)
    assert "what" in errors(await submit(desk, LAN, 1, ""))
    assert "other" in errors(await submit(desk, LAN, 1, "merge", other="hôm qua"))
    refused = errors(await submit(desk, LAN, 1, "merge", other="MC-99", view_hash="x1"))
    assert "MC-99" in refused["other"]
    itself = errors(await submit(desk, LAN, 1, "parent", other="MC-1", view_hash="x2"))
    assert "itself" in itself["other"]
    only = errors(await submit(desk, LAN, 1, "split", message="1", view_hash="x3"))
    assert "only message" in only["message"]
    assert "configured agent" in errors(await submit(desk, STRANGER, 1, "merge",
                                                     other="MC-1", view_hash="x4"))["what"]
    with desk.chat.rt.db.read() as conn:
        assert conn.execute(select(tickets.c.status).where(tickets.c.id == 1)).scalar() \
            != "closed"
        assert not conn.execute(select(ticket_links.c.ticket_id)).all()
