"""Agents work from Slack: a Messenger complaint becomes a card in its department's channel,
the thread carries the conversation, buttons act on the ticket, answers reach the customer."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import select

from tests.connectors.chat import PAGE_ID, fixture_json
from tests.connectors.slack.conftest import LAN, MINH, STRANGER, Desk
from tickets.schema import journal, tickets


def messenger_body(text: str, mid: str, psid: str = "2512523625412515") -> bytes:
    body: dict[str, Any] = fixture_json("facebook", "messenger_text.json")
    event = body["entry"][0]["messaging"][0]
    event["sender"]["id"] = psid
    event["timestamp"] = int(time.time() * 1000)
    event["message"].update(text=text, mid=mid)
    return json.dumps(body, ensure_ascii=False).encode()


async def complaint(desk: Desk, mid: str = "m_1", psid: str = "2512523625412515",
                    text: str = "Voucher buffet Sen Tây Hồ nhà hàng không nhận, "
                                "đơn DH25220868") -> None:
    assert (await desk.chat.messenger(messenger_body(text, mid, psid))).status_code == 200
    await desk.chat.settle()


def card_text(call: dict[str, Any]) -> str:
    attachments = call["attachments"]
    if isinstance(attachments, str):
        attachments = json.loads(attachments)
    return json.dumps(attachments, ensure_ascii=False)


def journal_actions(desk: Desk, ticket_id: int = 1) -> list[tuple[str, str]]:
    with desk.chat.rt.db.read() as conn:
        return [(r.action, r.actor) for r in conn.execute(
            select(journal.c.action, journal.c.actor).where(journal.c.ticket_id == ticket_id)
            .order_by(journal.c.id))]


def ticket_field(desk: Desk, name: str, ticket_id: int = 1) -> Any:
    with desk.chat.rt.db.read() as conn:
        return conn.execute(select(tickets.c[name]).where(tickets.c.id == ticket_id)).scalar()


async def test_messenger_complaint_to_slack_card_thread_reply_and_back(desk: Desk) -> None:
    await complaint(desk)
    [card] = desk.cards()
    assert card["channel"] == "C0COMPLAIN"
    shown = card_text(card)
    assert "MC-1" in shown and "sb_reply" in shown and "sb_transfer" in shown
    assert f"<@{LAN}>" in shown  # offered round-robin to the first agent on shift
    assert ticket_field(desk, "assignee") == "lan"
    card_ts = "1795000001.000100"

    # a later customer message appears in the thread
    await complaint(desk, mid="m_2", text="Sao chưa ai trả lời vậy shop?")
    assert any("Sao chưa ai trả lời" in t for t in desk.thread(card_ts))

    # complaint_desk keeps plain thread messages internal: a note, nothing to the customer
    graph_before = len(desk.chat.graph.received)
    await desk.event({"type": "message", "channel": "C0COMPLAIN", "user": LAN,
                      "text": "Đã gọi nhà hàng, chờ họ xác nhận", "ts": "1795000100.000200",
                      "thread_ts": card_ts}, "Ev01")
    await desk.until(lambda: ("note", "lan") in journal_actions(desk), "the note")
    assert len(desk.chat.graph.received) == graph_before

    # "Reply to customer": the button opens the form, the form sends
    await desk.action(LAN, "sb_reply", "1", "C0COMPLAIN", card_ts)
    opened = await desk.until(lambda: desk.calls("views.open"), "views.open")
    view = opened[0]["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["private_metadata"] == "1" and view["callback_id"] == "sb_reply_modal"
    answer = await desk.submit_reply(LAN, 1, "Chào bạn, shop đã liên hệ nhà hàng.")
    assert answer.status_code == 200
    await desk.chat.settle()
    sent = [r.json() for r in desk.chat.graph.calls(f"/{PAGE_ID}/messages")]
    assert sent[-1]["message"]["text"] == "Chào bạn, shop đã liên hệ nhà hàng."
    thread = desk.thread(card_ts)
    assert any(t.startswith("📤 *lan*") for t in thread)
    assert any(t.startswith("✅") for t in thread)  # delivered, shown in the thread
    assert ticket_field(desk, "first_response_at") is not None
    assert ("first_response", "lan") in journal_actions(desk)


async def test_customer_mode_thread_messages_answer_and_notes_stay_internal(desk: Desk) -> None:
    await complaint(desk)
    card_ts = "1795000001.000100"
    await desk.action(LAN, "sb_transfer", "1:customer_care", "C0COMPLAIN", card_ts,
                      select=True)
    await desk.until(lambda: len(desk.cards()) == 2, "the card in the new channel")
    await desk.chat.settle()
    new_card = desk.cards()[-1]
    assert new_card["channel"] == "C0CARE"
    moved = [c for c in desk.calls("chat.update") if c["ts"] == card_ts]
    assert moved and "C0CARE" in card_text(moved[-1])
    new_ts = desk.card_ts()
    history = [t for t in desk.thread(new_ts) if t.startswith("Lịch sử")]
    assert history and "Voucher buffet" in history[0]

    graph_before = len(desk.chat.graph.calls(f"/{PAGE_ID}/messages"))
    await desk.event({"type": "message", "channel": "C0CARE", "user": LAN,
                      "text": "note: khách này hay khiếu nại", "ts": "1795000200.000100",
                      "thread_ts": new_ts}, "Ev10")
    await desk.event({"type": "message", "channel": "C0CARE", "user": LAN,
                      "text": "Shop xin lỗi bạn, đã hoàn tiền voucher.",
                      "ts": "1795000201.000100", "thread_ts": new_ts}, "Ev11")
    # Slack events are handled after the ack, concurrently: the note may land after the reply
    await desk.until(lambda: desk.calls("reactions.add"), "the 📤 reaction")
    await desk.until(lambda: any(a[0] == "note" for a in journal_actions(desk)), "the note")
    await desk.chat.settle()
    sent = desk.chat.graph.calls(f"/{PAGE_ID}/messages")
    assert len(sent) == graph_before + 1
    assert sent[-1].json()["message"]["text"] == "Shop xin lỗi bạn, đã hoàn tiền voucher."
    assert desk.calls("reactions.add")[0]["timestamp"] == "1795000201.000100"
    notes = [a for a in journal_actions(desk) if a[0] == "note"]
    assert notes == [("note", "lan")]


async def test_buttons_change_the_ticket_update_the_card_and_are_journaled(desk: Desk) -> None:
    await complaint(desk)
    card_ts = "1795000001.000100"
    updates = len(desk.calls("chat.update"))
    same = f"{time.time():.6f}"
    await desk.action(MINH, "sb_assign_me", "1", "C0COMPLAIN", card_ts, action_ts=same)
    await desk.action(MINH, "sb_assign_me", "1", "C0COMPLAIN", card_ts, action_ts=same)
    await desk.until(lambda: ticket_field(desk, "assignee") == "minh", "assignment")
    await desk.chat.settle()
    assert [a for a in journal_actions(desk) if a == ("assigned", "minh")] == \
        [("assigned", "minh")]
    assert len(desk.calls("chat.update")) == updates + 1
    assert f"<@{MINH}>" in card_text(desk.calls("chat.update")[-1])

    await desk.action(MINH, "sb_priority", "1:urgent", "C0COMPLAIN", card_ts, select=True)
    await desk.until(lambda: ticket_field(desk, "priority") == "urgent", "priority")
    await desk.action(MINH, "sb_category", "1:service/delivery", "C0COMPLAIN", card_ts,
                      select=True)
    await desk.until(lambda: ticket_field(desk, "category") == "service", "reclassify")
    assert ticket_field(desk, "department") == "logistics"
    await desk.action(LAN, "sb_resolve", "1", "C0LOGI", card_ts)
    await desk.until(lambda: ticket_field(desk, "status") == "resolved", "resolve")
    await desk.action(LAN, "sb_reopen", "1", "C0LOGI", card_ts)
    await desk.until(lambda: ticket_field(desk, "status") == "open", "reopen")
    actions = journal_actions(desk)
    assert ("priority_changed", "minh") in actions and ("reclassified", "minh") in actions
    assert [a for a in actions if a[0] == "status_changed"] == [("status_changed", "lan")] * 2
    await desk.chat.settle()
    assert desk.cards()[-1]["channel"] == "C0LOGI"  # reclassified into another department


async def test_strangers_are_refused_and_nothing_changes(desk: Desk) -> None:
    await complaint(desk)
    card_ts = "1795000001.000100"
    await desk.action(STRANGER, "sb_resolve", "1", "C0COMPLAIN", card_ts)
    refusal = await desk.until(lambda: desk.calls("chat.postEphemeral"), "a refusal")
    assert refusal[0]["user"] == STRANGER and "not a configured agent" in refusal[0]["text"]
    assert ticket_field(desk, "status") == "open"
    await desk.command(STRANGER, "/customer", "0912345678")
    answered = await desk.until(desk.responses, "the command's answer")
    assert "not a configured agent" in answered[0]["text"]


async def test_bad_signatures_and_old_timestamps_are_refused(desk: Desk) -> None:
    await complaint(desk)
    body = json.dumps({"type": "event_callback", "event_id": "Ev99", "event": {
        "type": "message", "channel": "C0COMPLAIN", "user": LAN, "text": "x",
        "ts": "1795000300.000100", "thread_ts": "1795000001.000100"}}).encode()
    bad = await desk.signed(body, "application/json", signature="v0=" + "0" * 64)
    old = await desk.signed(body, "application/json", timestamp=int(time.time()) - 600)
    unsigned = await desk.chat.client.post("/slack/events", content=body,
                                           headers={"Content-Type": "application/json"})
    assert (bad.status_code, old.status_code, unsigned.status_code) == (401, 401, 401)
    await desk.quiet()
    assert ("note", "lan") not in journal_actions(desk)


async def test_slack_retries_never_double_a_reply(desk: Desk) -> None:
    await complaint(desk)
    await desk.action(LAN, "sb_transfer", "1:customer_care", "C0COMPLAIN",
                      "1795000001.000100", select=True)
    await desk.until(lambda: len(desk.cards()) == 2, "the transfer")
    await desk.chat.settle()
    event = {"type": "message", "channel": "C0CARE", "user": LAN, "text": "Đã hoàn tiền ạ",
             "ts": "1795000400.000100", "thread_ts": desk.card_ts()}
    await desk.event(event, "Ev20")
    await desk.event(event, "Ev20", headers={"X-Slack-Retry-Num": "1",
                                             "X-Slack-Retry-Reason": "http_timeout"})
    await desk.until(lambda: desk.calls("reactions.add"), "the reply")
    await desk.quiet()
    texts = [r.json()["message"]["text"] for r in desk.chat.graph.calls(f"/{PAGE_ID}/messages")]
    assert texts.count("Đã hoàn tiền ạ") == 1


async def test_gone_tickets_foreign_threads_bots_and_edits(desk: Desk) -> None:
    await complaint(desk)
    await desk.action(LAN, "sb_resolve", "999", "C0COMPLAIN", "1795000001.000100")
    gone = await desk.until(lambda: desk.calls("chat.postEphemeral"), "the refusal")
    assert "no longer exists" in gone[0]["text"]
    graph_before = len(desk.chat.graph.received)
    await desk.event({"type": "message", "channel": "C0COMPLAIN", "user": LAN,
                      "text": "chuyện khác", "ts": "1795000500.000100",
                      "thread_ts": "1790000000.000001"}, "Ev30")
    await desk.event({"type": "message", "channel": "C0COMPLAIN", "bot_id": "B0BOT",
                      "text": "🛠 something", "ts": "1795000501.000100",
                      "thread_ts": "1795000001.000100"}, "Ev31")
    await desk.event({"type": "message", "subtype": "message_changed", "channel": "C0COMPLAIN",
                      "message": {"user": LAN, "text": "sửa", "ts": "1795000502.000100"},
                      "previous_message": {"user": LAN, "text": "gốc",
                                           "ts": "1795000502.000100",
                                           "thread_ts": "1795000001.000100"}}, "Ev32")
    await desk.quiet()
    assert len(desk.chat.graph.received) == graph_before
    assert [a for a in journal_actions(desk) if a[0] == "note"] == []


async def test_edit_of_a_message_the_customer_received_is_explained(desk: Desk) -> None:
    await complaint(desk)
    await desk.action(LAN, "sb_transfer", "1:customer_care", "C0COMPLAIN",
                      "1795000001.000100", select=True)
    await desk.until(lambda: len(desk.cards()) == 2, "the transfer")
    await desk.chat.settle()
    await desk.event({"type": "message", "channel": "C0CARE", "user": LAN, "text": "Chào bạn",
                      "ts": "1795000600.000100", "thread_ts": desk.card_ts()}, "Ev40")
    await desk.until(lambda: desk.calls("reactions.add"), "the reply")
    await desk.event({"type": "message", "subtype": "message_changed", "channel": "C0CARE",
                      "message": {"user": LAN, "text": "Chào bạn!", "ts": "1795000600.000100"},
                      "previous_message": {"user": LAN, "text": "Chào bạn",
                                           "ts": "1795000600.000100",
                                           "thread_ts": desk.card_ts()}}, "Ev41")
    notice = await desk.until(lambda: [c for c in desk.calls("chat.postEphemeral")
                                       if "original" in c["text"]], "the notice")
    assert notice[0]["user"] == LAN


async def test_slash_commands_log_a_call_and_show_a_customer(desk: Desk) -> None:
    await desk.command(LAN, "/ticket", "0912 345 678 Khách gọi báo đơn DH25220868 giao thiếu "
                       "hàng", trigger="trig-1")
    answered = await desk.until(desk.responses, "the answer")
    assert "+84912345678" in answered[0]["text"]
    await desk.chat.settle()
    [card] = desk.cards()
    assert "Hotline" in card_text(card)
    await desk.command(LAN, "/customer", "+84912345678", trigger="trig-2")
    profile = await desk.until(lambda: desk.responses()[1:], "the profile")
    assert "MC-1" in profile[0]["text"]
    await desk.command(LAN, "/customer", "nobody@example.com", trigger="trig-3")
    none = await desk.until(lambda: desk.responses()[2:], "no customer")
    assert "no customer" in none[0]["text"]


async def test_round_robin_skips_full_agents(desk: Desk) -> None:
    for n in range(3):
        await complaint(desk, mid=f"m_rr{n}", psid=f"99{n}",
                        text=f"Nhà hàng Sen Tây Hồ không nhận voucher buffet, đơn DH2522086{n}")
    assert [ticket_field(desk, "assignee", t) for t in (1, 2, 3)] == ["lan", "minh", "lan"]


async def test_slack_outage_delays_the_card_but_loses_nothing(desk: Desk) -> None:
    from datetime import timedelta

    from tests.connectors.fakes import Scripted

    desk.slack.script = [Scripted(status=503, body={"ok": False,
                                                    "error": "service_unavailable"})]
    await complaint(desk)
    [row] = [r for r in desk.chat.outbox_rows() if r["channel"] == "slack"]
    assert row["status"] == "pending"
    assert "service_unavailable" in row["last_error"]
    desk.chat.clock.advance(timedelta(minutes=5))
    await desk.chat.settle()
    cards = desk.cards()
    assert len(cards) >= 1 and cards[-1]["channel"] == "C0COMPLAIN"
    rows = [r for r in desk.chat.outbox_rows() if r["channel"] == "slack"]
    assert {r["status"] for r in rows} == {"sent"}


async def test_late_tickets_turn_red_tell_managers_and_can_be_acknowledged(desk: Desk) -> None:
    from datetime import timedelta

    from switchboard.jobs.sla_sweeper import Sweeper
    from switchboard.ticket_rules.sla_keeper import keeper_for

    await complaint(desk)
    rt = desk.chat.rt
    sweeper = Sweeper(rt.settings, rt.db, rt.clock, keeper_for(rt.settings))
    desk.chat.clock.advance(timedelta(hours=9))  # supplier matters: first response in 8 h
    assert sweeper.sweep().steps == 2  # yellow (4 h before) and red, at once
    await desk.chat.settle()
    dms = [c for c in desk.calls("chat.postMessage") if c["channel"] == MINH]
    assert len(dms) == 1 and "MC-1" in dms[0]["text"] and "late" in dms[0]["text"]
    card = desk.calls("chat.update")[-1]
    assert "#e01e5a" in card_text(card) and "sb_ack" in card_text(card)
    thread = desk.thread(desk.card_ts())
    assert any(t.startswith("🟡") and f"<@{LAN}>" in t for t in thread)  # the owner
    assert any(t.startswith("🔴") and f"<@{MINH}>" in t for t in thread)  # the managers

    await desk.action(LAN, "sb_ack", "1", "C0COMPLAIN", desk.card_ts())
    refused = await desk.until(lambda: desk.calls("chat.postEphemeral"), "the refusal")
    assert "only managers" in refused[0]["text"]
    await desk.action(MINH, "sb_ack", "1", "C0COMPLAIN", desk.card_ts())
    await desk.until(lambda: ("sla_acknowledged", "minh") in journal_actions(desk), "the ack")
    assert sweeper.sweep().steps == 0
    desk.chat.clock.advance(timedelta(days=2))  # past the ladder's step: no repeats
    sweeper.sweep()
    await desk.chat.settle()
    dms = [c["text"] for c in desk.calls("chat.postMessage") if c["channel"] == MINH]
    assert sum("its first_response " in t for t in dms) == 1
    from sqlalchemy import select

    from tickets.schema import sla_events
    with rt.db.read() as conn:
        kinds = [k for (k,) in conn.execute(select(sla_events.c.kind))]
    assert "escalation" not in kinds  # acknowledged: the ladder stopped
