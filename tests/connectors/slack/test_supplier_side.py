"""The supplier's side seen from Slack, and the managers' alerts: proposals approved with a
button, `ncc:` thread messages to the supplier, the satisfaction question after Resolve,
complaint spikes and the daily digest, all through the real outbox to the fake Slack."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from switchboard.desk import accounts, supplier_actions
from switchboard.jobs import digest
from switchboard.jobs.spikes import SpikeWatch, detect
from tests.connectors.slack.conftest import LAN, MINH, Desk
from tests.connectors.slack.test_desk import complaint, journal_actions, messenger_body
from tickets.schema import outbox, proposals, tickets

STAFF = "staff@senbuffet.vn"
SEN = "Voucher buffet Sen Tây Hồ nhà hàng không nhận, đơn DH24043942"


def _supplier_user(desk: Desk) -> accounts.User:
    rt = desk.chat.rt
    with rt.db.write() as conn:
        user_id = accounts.add_user(conn, rt.settings, STAFF, "Thu", "mat-khau-du-dai",
                                    "SUP001", rt.clock.now())
    return accounts.User(user_id, STAFF, "Thu", "SUP001", "Nhà hàng Sen Tây Hồ", "supplier",
                         ())


def _outbox(desk: Desk, kind: str) -> list[dict[str, object]]:
    with desk.chat.rt.db.read() as conn:
        return [dict(r._mapping) for r in conn.execute(
            select(outbox).where(outbox.c.kind == kind).order_by(outbox.c.id))]


async def test_a_proposal_is_approved_once_from_its_thread_buttons(desk: Desk) -> None:
    await complaint(desk, text=SEN)
    user = _supplier_user(desk)
    rt = desk.chat.rt
    with rt.db.write() as conn:
        supplier_actions.propose(conn, rt.settings, user, 1, "refund", 289000, "hoàn 100%",
                              rt.clock.now())
    await desk.chat.settle()
    posted = [c for c in desk.calls("chat.postMessage")
              if c.get("thread_ts") == desk.card_ts() and "blocks" in c]
    assert len(posted) == 1
    blocks = posted[0]["blocks"]
    buttons = (json.loads(blocks) if isinstance(blocks, str) else blocks)[1]["elements"]
    assert [b["value"] for b in buttons] == ["1:approve-1", "1:reject-1"]
    await desk.action(LAN, "sb_proposal", "1:approve-1", "C0COMPLAIN", desk.card_ts())
    await desk.until(lambda: ("proposal_approved", "lan") in journal_actions(desk),
                     "the approval")
    await desk.action(MINH, "sb_proposal", "1:reject-1", "C0COMPLAIN", desk.card_ts())
    refused = await desk.until(lambda: desk.calls("chat.postEphemeral"), "the refusal")
    assert "already approved by lan" in refused[-1]["text"]
    with rt.db.read() as conn:
        assert conn.execute(select(proposals.c.status, proposals.c.decided_by)).one() == \
            ("approved", "lan")
    told = [m["recipient"] for m in _outbox(desk, "supplier_notice")]
    assert STAFF in told


async def test_ncc_prefix_writes_to_the_supplier_not_the_customer(desk: Desk) -> None:
    await complaint(desk, text=SEN)
    _supplier_user(desk)
    before = len(desk.chat.graph.received)
    await desk.event({"type": "message", "channel": "C0COMPLAIN", "user": LAN,
                      "text": "ncc: Nhờ anh chị kiểm tra camera quầy lễ tân tối qua",
                      "ts": "1795000009.000100", "thread_ts": desk.card_ts()}, "Ev-ncc-1")
    await desk.until(lambda: ("desk_to_supplier", "lan") in journal_actions(desk),
                     "the message to the supplier")
    mails = _outbox(desk, "supplier_notice")
    assert STAFF in {m["recipient"] for m in mails}
    assert "camera quầy lễ tân" in str(mails[0]["payload"])
    assert len(desk.chat.graph.received) == before  # nothing to the customer


async def test_resolve_asks_the_customer_and_a_bare_rating_is_kept(desk: Desk) -> None:
    await complaint(desk, text=SEN)
    await desk.action(LAN, "sb_resolve", "1", "C0COMPLAIN", desk.card_ts())
    await desk.until(lambda: _outbox(desk, "survey"), "the survey")
    await desk.chat.settle()
    asked = [r for r in desk.chat.graph.received if r.path.endswith("/messages")]
    assert "từ 1 (rất không hài lòng) đến 5" in asked[-1].json()["message"]["text"]
    assert (await desk.chat.messenger(messenger_body("5 sao", "m_rate"))).status_code == 200
    await desk.chat.settle()
    with desk.chat.rt.db.read() as conn:
        rows = conn.execute(select(tickets.c.id, tickets.c.status, tickets.c.csat)).all()
    assert [(r.id, r.status, r.csat) for r in rows] == [(1, "resolved", 5)]
    # a second rating is an ordinary message (the question was answered)
    await desk.chat.messenger(messenger_body("4", "m_rate_again"))
    await desk.chat.settle()
    with desk.chat.rt.db.read() as conn:
        assert conn.execute(select(tickets.c.csat).where(tickets.c.id == 1)).scalar() == 5


def test_spike_detection_needs_both_the_jump_and_the_minimum() -> None:
    sup = ("supplier", "SUP001")
    other = ("supplier", "SUP002")
    recent = {sup: [1, 2, 3, 4, 5], other: [6, 7, 8, 9, 10, 11]}
    from collections import Counter

    trailing = Counter({sup: 168, other: 168 * 4})  # 1 and 4 per hour usually
    spikes = detect(recent, trailing, 168.0, 3.0, 5)
    assert [(s.key, s.count, s.usual) for s in spikes] == [(sup, 5, 1.0)]
    assert detect({sup: [1, 2, 3, 4]}, Counter(), 168.0, 3.0, 5) == []


async def test_a_complaint_spike_tells_the_managers_once(desk: Desk) -> None:
    chat = desk.chat
    texts = ["Buffet Sen Tây Hồ đồ ăn ôi thiu, đơn DH24043942",
             "Sen Tây Hồ hải sản có mùi, đau bụng cả nhà",
             "Nhà hàng Sen Tây Hồ món ăn nguội, không tươi",
             "Buffet Sen đồ ăn bị hỏng, rất tệ",
             "Sen Tây Hồ thức ăn ôi, phục vụ kém"]
    for i, text in enumerate(texts):
        await complaint(desk, mid=f"m_spike_{i}", psid=f"25125236254125{i:02d}", text=text)
    watch = SpikeWatch(chat.rt.settings, chat.rt.db)
    told = watch.check(chat.clock.now())
    assert [(s.key, s.count) for s in told] == [(("supplier", "SUP001"), 5)]
    assert watch.check(chat.clock.now()) == []  # once per hour
    await chat.settle()
    dms = [c["text"] for c in desk.calls("chat.postMessage") if c["channel"] == MINH]
    assert len(dms) == 1
    assert "Nhà hàng Sen Tây Hồ" in dms[0] and "MC-1" in dms[0] and "MC-5" in dms[0]


async def test_the_daily_digest_goes_once_with_yesterdays_numbers(desk: Desk) -> None:
    chat = desk.chat
    await complaint(desk, text=SEN)
    await complaint(desk, mid="m_2", psid="2512523625419999",
                    text="Shop ơi voucher Sen Tây Hồ dùng được thứ bảy không ạ?")
    chat.clock.advance(timedelta(days=1))
    assert digest.send(chat.rt.settings, chat.rt.db, chat.clock.now())
    assert not digest.send(chat.rt.settings, chat.rt.db, chat.clock.now())
    await chat.settle()
    [sent] = [c["text"] for c in desk.calls("chat.postMessage") if c["channel"] == MINH]
    assert "daily digest" in sent
    assert "new tickets: *2* (khiếu nại / complaints 1)" in sent
    assert "messenger 2" in sent and "Nhà hàng Sen Tây Hồ (1)" in sent
    assert [r["status"] for r in _outbox(desk, "slack_digest")] == ["sent"]
