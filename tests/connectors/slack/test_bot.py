"""The bot end to end, on the real connectors against the fake platforms and the fake Slack
API: a Zalo question answered at once (a compact line in Slack, no card to work, no clock,
no acknowledgement); "gặp nhân viên" hands it to people (the full card, a round-robin
offer, clocks from that moment, the customer told); a person's answer silences the bot for
good; an unanswerable question on a holiday is acknowledged with the next working morning."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from tests.connectors.chat import fixture_json
from tests.connectors.slack.conftest import Desk
from tests.connectors.slack.test_desk import card_text, journal_actions, messenger_body
from tickets.schema import journal, tickets

USER = fixture_json("zalo", "documented_user_send_text.json")["sender"]["id"]


async def zalo(desk: Desk, text: str, msg_id: str) -> None:
    body: dict[str, Any] = fixture_json("zalo", "documented_user_send_text.json")
    body["message"].update(text=text, msg_id=msg_id)
    body["timestamp"] = str(int(desk.chat.clock.now().timestamp() * 1000))
    response = await desk.chat.zalo_event(json.dumps(body, ensure_ascii=False).encode())
    assert response.status_code == 200, response.text
    await desk.chat.settle()


def sent_to_zalo(desk: Desk) -> list[str]:
    return [c.json()["message"]["text"] for c in desk.chat.zalo.calls("/v3.0/oa/message/cs")]


def ticket_row(desk: Desk, ticket_id: int = 1) -> Any:
    with desk.chat.rt.db.read() as conn:
        return conn.execute(select(tickets).where(tickets.c.id == ticket_id)).one()


def handovers(desk: Desk) -> list[str]:
    with desk.chat.rt.db.read() as conn:
        return [r.data["reason"] for r in conn.execute(
            select(journal.c.data).where(journal.c.action == "bot_handover"))]


async def test_a_zalo_question_is_answered_then_handed_over_then_the_bot_is_silent(
        desk: Desk) -> None:
    await zalo(desk, "Cho mình hỏi voucher mua trên app dùng như thế nào vậy ạ?", "z1")
    row = ticket_row(desk)
    assert (row.status, row.bot_state, row.sla, row.assignee) == (
        "bot_answered", "answered", None, None)
    [answer] = sent_to_zalo(desk)  # the answer is the only message: no acknowledgement
    assert "Voucher của tôi" in answer
    [card] = desk.cards()
    shown = card_text(card)
    assert "answered by the bot" in shown and "sb_resolve" not in shown
    assert ("bot_answered", "bot") in journal_actions(desk)

    await zalo(desk, "cảm ơn shop nhé", "z2")  # thanks: nothing changes
    assert ticket_row(desk).status == "bot_answered" and len(sent_to_zalo(desk)) == 1

    await zalo(desk, "thôi cho mình gặp nhân viên đi", "z3")
    row = ticket_row(desk)
    assert (row.status, row.bot_state) == ("open", "handed_over")
    assert row.sla is not None and row.assignee is not None  # clocks from now, offered
    assert handovers(desk) == ["customer_request"]
    told = sent_to_zalo(desk)[-1]
    assert "nhân viên" in told and "MC-1" in told
    updated = [card_text(c) for c in desk.calls("chat.update")]
    assert updated and "sb_resolve" in updated[-1]  # the full card, to work from

    assert (await desk.chat.reply("MC-1", "Chào bạn, mình là Lan, mình hỗ trợ nhé.")
            ).status_code == 202
    await desk.chat.settle()
    before = len(sent_to_zalo(desk))
    await zalo(desk, "Voucher có được gia hạn không?", "z4")  # people have it now
    assert len(sent_to_zalo(desk)) == before
    assert ticket_row(desk).bot_state == "handed_over"


async def test_a_persons_answer_takes_the_ticket_from_the_bot(desk: Desk) -> None:
    await zalo(desk, "Hotline bên mình số mấy vậy shop?", "p1")
    assert ticket_row(desk).status == "bot_answered"
    assert (await desk.chat.reply("MC-1", "Dạ hotline 1900 6750 ạ.")).status_code == 202
    await desk.chat.settle()
    row = ticket_row(desk)
    assert row.bot_state == "handed_over" and row.status != "bot_answered"
    assert row.first_response_at is not None and handovers(desk) == ["person_answered"]


async def test_a_complaint_is_never_answered_by_the_bot(desk: Desk) -> None:
    await zalo(desk, "Sao voucher của tôi nhà hàng Sen Tây Hồ không nhận vậy?? Làm ăn kiểu gì",
               "c1")
    row = ticket_row(desk)
    assert row.status == "open" and row.bot_state is None  # people's from the start
    assert handovers(desk) == ["complaint"]
    [ack] = sent_to_zalo(desk)
    assert "MC-1" in ack  # the acknowledgement, not an answer


async def test_out_of_hours_on_a_holiday_names_the_next_working_morning(desk: Desk) -> None:
    # New Year's Day 2027 (a Friday, a public holiday), 10:00 in Hồ Chí Minh City
    desk.chat.clock.set(datetime(2027, 1, 1, 3, 0, tzinfo=UTC))
    text = ("Cho em hỏi bên mình có bán bình gas mini loại 2kg không ạ, em cần gấp cho chuyến "
            "đi cắm trại")  # nothing the knowledge base can answer
    assert (await desk.chat.messenger(messenger_body(text, "h1"))).status_code == 200
    await desk.chat.settle()
    sent = [json.loads(c.body)["message"]["text"] for c in desk.chat.graph.calls("/messages")]
    assert any("8:00 thứ Bảy, 02/01/2027" in s for s in sent), sent
    assert handovers(desk) and ticket_row(desk).status == "open"


async def test_the_dashboard_counts_answers_deflection_and_handovers(desk: Desk) -> None:
    from datetime import timedelta

    from switchboard.insight import reports

    clock = desk.chat.clock
    await zalo(desk, "Hotline bên mình số mấy vậy shop?", "d1")  # answered, stays answered
    await zalo(desk, "Sao voucher của tôi nhà hàng Sen Tây Hồ không nhận vậy?? Bực mình quá",
               "d2")  # joins MC-1 as a complaint: handed over
    assert (await desk.chat.messenger(messenger_body("cho hỏi hotline bên mình số mấy",
                                                     "d3"))).status_code == 200
    await desk.chat.settle()
    clock.advance(timedelta(hours=25))
    rt = desk.chat.rt
    day = (clock.now() - timedelta(hours=25)).astimezone(rt.settings.zone).date()
    with rt.db.read() as conn:
        report = reports.build(conn, reports.Filters(day, day), rt.settings.zone, "MC",
                               clock.now(), ["zalo", "messenger"],
                               {k: d.name for k, d in rt.settings.routing.departments.items()})
    table = report.tables["bot"]
    rows = {r[1]: dict(zip(table.columns, r, strict=True)) for r in table.rows}
    assert rows["zalo"]["bot trả lời / answered"] == 1
    assert rows["zalo"]["giữ được 24h / deflected"] == 0  # handed over within the day
    assert rows["zalo"]["chuyển / handover: complaint"] == 1
    assert rows["messenger"]["giữ được 24h / deflected"] == 1


async def test_agents_get_knowledge_answers_in_the_reply_form_and_from_faq(desk: Desk
                                                                          ) -> None:
    from tests.connectors.slack.conftest import LAN

    await zalo(desk, "Mình muốn hủy đơn hàng vừa đặt thì làm thế nào, gặp nhân viên giúp", "f1")
    assert ticket_row(desk).status == "open"  # asked for a person: people have it
    await desk.action(LAN, "sb_reply", "1", "C0FRONT", desk.card_ts())
    [opened] = await desk.until(lambda: desk.calls("views.open"), "the reply form")
    form = json.dumps(opened, ensure_ascii=False)
    assert "kb:order_cancel" in form
    await desk.command(LAN, "/faq", "hoàn tiền về ví mất bao lâu", trigger="f2")
    [found] = await desk.until(desk.responses, "the /faq answer")
    assert "💡 *refund_timeline*" in found["text"]
    await desk.command(LAN, "/faq", "", trigger="f3")
    usage = await desk.until(lambda: desk.responses()[1:], "usage")
    assert "/faq" in usage[0]["text"]
