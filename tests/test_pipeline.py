from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from switchboard.bootstrap import Runtime
from tests.helpers import deliver, message, message_count, ticket_count
from tickets import inbox, queries
from tickets.clock import ManualClock
from tickets.database import Database
from tickets.schema import customers, identities, merge_suggestions, tickets


def show(rt: Runtime, ticket_id: int) -> dict:  # type: ignore[type-arg]
    with rt.db.read() as conn:
        found = queries.get_ticket(conn, "MC", ticket_id)
    assert found is not None
    return found


def test_message_becomes_classified_routed_journaled_ticket(runtime: Runtime, catalog: Database,
                                                            clock: ManualClock) -> None:
    [outcome] = deliver(runtime.pipeline, message(
        "m1", "Đơn DH25220868 giao tới thì hộp bị móp, máy bị hỏng không lên nguồn",
        when=clock.now()))
    assert (outcome.action, outcome.ref, outcome.category) == ("created", "MC-1", "product")
    ticket = show(runtime, 1)
    assert ticket["supplier_id"] == ticket["assigned_supplier_id"] == "SUP022"
    assert ticket["department"] == "complaint_desk"
    assert [j["action"] for j in ticket["journal"]] == [
        "created", "classified", "routed", "assigned", "sla", "bot_handover"]
    assert ticket["journal"][-2]["reason"].startswith("policy supplier_matters")
    assert "new customer #1 (messenger 1001)" in ticket["journal"][0]["reason"]
    assert "order DH25220868" in ticket["journal"][1]["reason"]
    assert "product_broken" in ticket["rules"]
    assert ticket["messages"][0]["text"].startswith("Đơn DH25220868")


def test_unknown_supplier_is_said_in_the_journal(runtime: Runtime, clock: ManualClock) -> None:
    deliver(runtime.pipeline, message("m1", "Áo mua về bị rách, đường may bung chỉ",
                                      when=clock.now()))
    ticket = show(runtime, 1)
    assert ticket["category"] == "product" and ticket["assigned_supplier_id"] is None
    assert "supplier is unknown" in ticket["journal"][2]["reason"]


def test_replay_is_a_noop(runtime: Runtime, clock: ManualClock) -> None:
    first = message("mid.1", "Shipper chưa giao hàng 5 ngày rồi", when=clock.now())
    assert [o.action for o in deliver(runtime.pipeline, first)] == ["created"]
    assert [o.action for o in deliver(runtime.pipeline, first, first)] == ["duplicate"]
    assert (ticket_count(runtime.db), message_count(runtime.db)) == (1, 1)


def test_chat_follow_up_joins_open_ticket_email_thread_does_not(runtime: Runtime,
                                                               clock: ManualClock) -> None:
    deliver(runtime.pipeline, message("a", "Shipper chưa giao hàng", when=clock.now()))
    clock.advance(timedelta(hours=2))
    [joined] = deliver(runtime.pipeline, message("b", "sao vẫn chưa thấy ạ", when=clock.now()))
    assert (joined.action, joined.ref) == ("joined", "MC-1")
    email = dict(channel="email", sender="lan@gmail.com")
    deliver(runtime.pipeline, message("<1@x>", "Đơn hàng chưa giao", when=clock.now(), **email))
    [second] = deliver(runtime.pipeline, message("<2@x>", "Hàng bị vỡ", when=clock.now(),
                                                 **email))
    assert second.action == "created"  # a new email thread is a new ticket


def test_email_reply_joins_by_message_id_and_by_reference(runtime: Runtime,
                                                         clock: ManualClock) -> None:
    email = dict(channel="email", sender="lan@gmail.com")
    deliver(runtime.pipeline, message("<1@x>", "Đơn hàng chưa giao", when=clock.now(), **email))
    [by_id] = deliver(runtime.pipeline, message("<2@x>", "còn đây ạ", when=clock.now(),
                                                thread_keys=("<1@x>",), **email))
    [by_ref] = deliver(runtime.pipeline, message("<3@x>", "nhắc lại", when=clock.now(),
                                                 subject="Re: [#MC-1] Đơn hàng", **email))
    assert (by_id.action, by_ref.action) == ("joined", "joined")
    stranger = dict(channel="email", sender="other@gmail.com")
    [foreign] = deliver(runtime.pipeline, message("<4@y>", "Re: tin này", when=clock.now(),
                                                  subject="Re: [#MC-1] Đơn hàng",
                                                  thread_keys=("<1@x>",), **stranger))
    assert foreign.action == "created"  # not the ticket's customer: never a stranger's ticket


def test_reply_to_long_closed_ticket_opens_a_linked_one(runtime: Runtime,
                                                       clock: ManualClock) -> None:
    email = dict(channel="email", sender="lan@gmail.com")
    deliver(runtime.pipeline, message("<1@x>", "Đơn hàng chưa giao", when=clock.now(), **email))
    with runtime.db.write() as conn:
        conn.execute(update(tickets).values(status="closed", closed_at=clock.now()))
    clock.advance(timedelta(days=2))
    [reopened] = deliver(runtime.pipeline, message("<2@x>", "lại bị nữa", when=clock.now(),
                                                   thread_keys=("<1@x>",), **email))
    assert (reopened.action, show(runtime, 1)["status"]) == ("joined", "open")
    with runtime.db.write() as conn:
        conn.execute(update(tickets).values(status="closed", closed_at=clock.now()))
    clock.advance(timedelta(days=30))
    [fresh] = deliver(runtime.pipeline, message("<3@x>", "lại bị nữa", when=clock.now(),
                                                thread_keys=("<2@x>",), **email))
    assert fresh.action == "created"
    assert show(runtime, 2)["linked_ticket"] == "MC-1"


def test_phone_in_text_merges_exact_identity_and_is_journaled(runtime: Runtime,
                                                              clock: ManualClock) -> None:
    deliver(runtime.pipeline, message("p1", "Hàng bị vỡ", channel="phone",
                                      sender="0912 345 678", when=clock.now()))
    deliver(runtime.pipeline, message("m1", "em gọi hotline rồi, sđt em 0912.345.678, hàng vỡ",
                                      sender="777", when=clock.now()))
    with runtime.db.read() as conn:
        owners = dict(conn.execute(select(identities.c.value, identities.c.customer_id)).all())
        merged = conn.execute(select(customers.c.merged_into).where(customers.c.id == 2)).scalar()
    assert owners == {"+84912345678": 1, "777": 1}
    assert merged == 1
    journal = show(runtime, 2)["journal"]
    assert any(j["action"] == "merged" and "+84912345678" in j["reason"] for j in journal)


def test_same_name_is_only_a_suggestion(runtime: Runtime, clock: ManualClock) -> None:
    deliver(runtime.pipeline, message("a", "hàng vỡ", sender="1", sender_name="Nguyễn Lan",
                                      when=clock.now()))
    deliver(runtime.pipeline, message("b", "hàng vỡ", sender="2", sender_name="nguyễn  lan",
                                      when=clock.now()))
    with runtime.db.read() as conn:
        suggestions = conn.execute(select(merge_suggestions)).all()
        assert conn.execute(select(customers.c.merged_into)).scalars().all() == [None, None]
    assert [(s.customer_id, s.candidate_id) for s in suggestions] == [(2, 1)]
    assert "suggested for a merge, not merged" in show(runtime, 2)["journal"][0]["reason"]


def test_question_then_complaint_reclassifies(runtime: Runtime, clock: ManualClock) -> None:
    # on the hotline, where the bot has no part (tests/connectors/slack/test_bot.py has it)
    deliver(runtime.pipeline, message("a", "cho em hỏi voucher dùng cuối tuần được không ạ",
                                      channel="phone", sender="0912000111", when=clock.now()))
    assert show(runtime, 1)["category"] == "inquiry"
    deliver(runtime.pipeline, message("b", "nhà hàng không nhận voucher, nhân viên thái độ",
                                      channel="phone", sender="0912000111", when=clock.now()))
    ticket = show(runtime, 1)
    assert (ticket["category"], ticket["department"]) == ("supplier", "complaint_desk")
    assert any(j["reason"].startswith("reclassified from inquiry") for j in ticket["journal"])
    # a complaint is held to the complaint's SLA, in the same UPDATE as the reclassification
    assert any(j["action"] == "sla" and j["reason"].startswith(
        "policy inquiry → supplier_matters") for j in ticket["journal"])
    with runtime.db.read() as conn:
        clocks = conn.execute(select(tickets.c.sla, tickets.c.sla_version)).one()
    assert clocks.sla["policy"] == "supplier_matters"
    assert clocks.sla_version == 1  # one bump: the follow-up and the new policy together


def test_supplier_writing_is_the_supplier_speaking(runtime: Runtime, catalog: Database,
                                                   clock: ManualClock) -> None:
    [outcome] = deliver(runtime.pipeline, message(
        "s1", "Kỳ đối soát tháng này chưa thấy chuyển tiền", channel="email",
        sender="cskh@senbuffet.vn", when=clock.now()))
    assert (outcome.category, outcome.supplier_id) == ("supplier_platform", "SUP001")
    assert show(runtime, 1)["department"] == "partner_relations"
    # from the registered address, with answers asked at a colleague's (Reply-To): still
    # the supplier speaking
    [outcome] = deliver(runtime.pipeline, message(
        "s2", "Kỳ đối soát tháng 10 cũng chưa nhận được tiền", channel="email",
        sender="ketoan@senbuffet.vn", when=clock.now(),
        meta={"reply_to": "ketoan@senbuffet.vn", "from_address": "cskh@senbuffet.vn"}))
    assert (outcome.category, outcome.supplier_id) == ("supplier_platform", "SUP001")


def test_a_failing_message_is_retried_then_dead_lettered(runtime: Runtime, clock: ManualClock,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    real = runtime.pipeline.process

    def flaky(conn, msg, *args):  # type: ignore[no-untyped-def]
        if msg.external_id == "poison":
            raise RuntimeError("boom")
        return real(conn, msg, *args)

    monkeypatch.setattr(runtime.pipeline, "process", flaky)
    outcomes = deliver(runtime.pipeline, message("poison", "x", when=clock.now()),
                       message("fine", "hàng vỡ", sender="2", when=clock.now()))
    assert [o.action for o in outcomes[:2]] == ["failed", "created"]
    for _ in range(10):
        runtime.pipeline.run_batch()
    with runtime.db.read() as conn:
        stats = inbox.stats(conn)
    assert (stats.waiting, stats.dead) == (0, 1)
    assert ticket_count(runtime.db) == 1


def test_an_order_code_of_any_shape_the_orders_hold_names_the_supplier(
        runtime: Runtime, catalog: Database, clock: ManualClock) -> None:
    import io

    from switchboard.cli.commands import classify_lines
    from tickets import catalog as cat

    with catalog.write() as conn:
        cat.write_orders(conn, [cat.OrderRow(0, "MC100013", "SUP022", "Máy xay sinh tố",
                                             None, None, 890000),
                                cat.OrderRow(0, "SPX-77120934", "SUP001", "Buffet", None, None,
                                             1)], clock.now())
    lines = [json.dumps({"id": i, "channel": "zalo", "from": "0900000001", "text": t})
             for i, t in (("a", "Đơn MC100013 giao tới máy xay không chạy"),
                          ("b", "mã spx-77120934 nhà hàng không nhận voucher"),
                          ("c", "Đơn XY999999 giao tới máy xay không chạy"))]
    out = io.StringIO()
    classify_lines(runtime.settings, runtime.db, io.StringIO("\n".join(lines)), out)
    found = {r["id"]: r["supplier_id"] for r in map(json.loads, out.getvalue().splitlines())}
    assert found == {"a": "SUP022", "b": "SUP001", "c": None}
