"""SLA clocks end to end with a moving clock: policies chosen, yellow then red exactly once,
managers told through the outbox, answers, waits, resolve, reopen, reclassify, explain."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from switchboard import bootstrap
from switchboard.desk import actions as desk
from switchboard.jobs.sla_sweeper import Sweeper
from switchboard.settings import Settings, load_settings
from switchboard.ticket_rules.sla_keeper import keeper_for
from tests.conftest import CONFIG
from tests.helpers import deliver, message
from tickets import queries
from tickets.clock import ManualClock
from tickets.database import Database
from tickets.schema import journal, outbox, sla_events, tickets

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MANAGER = {"name": "hoa", "email": "hoa@shop.example.vn", "role": "manager",
           "departments": ["logistics", "front_line", "complaint_desk"]}


@pytest.fixture
def sla_settings(settings: Settings) -> Settings:
    return load_settings(CONFIG, environ={"SWITCHBOARD_SECRET": "test-secret"},
                         overrides={"database.url": settings.database.url,
                                    "agents": [MANAGER]})


@pytest.fixture
def rt(sla_settings: Settings, db: Database, clock: ManualClock) -> Iterator[bootstrap.Runtime]:
    runtime = bootstrap.build(sla_settings, clock)
    runtime.db.dispose()
    runtime.db = runtime.pipeline.db = db
    yield runtime


def sweeper(rt: bootstrap.Runtime) -> Sweeper:
    return Sweeper(rt.settings, rt.db, rt.clock, keeper_for(rt.settings))


def clocks(rt: bootstrap.Runtime, ticket_id: int = 1) -> dict[str, Any]:
    with rt.db.read() as conn:
        row = conn.execute(select(tickets.c.sla, tickets.c.sla_level, tickets.c.sla_next_at)
                           .where(tickets.c.id == ticket_id)).one()
    return {"state": row.sla, "level": row.sla_level, "next": row.sla_next_at}


def events(rt: bootstrap.Runtime) -> list[tuple[str, int, str]]:
    with rt.db.read() as conn:
        return [(r.timer, r.level, r.kind) for r in conn.execute(
            select(sla_events).order_by(sla_events.c.id))]


def delivery_complaint(rt: bootstrap.Runtime, clock: ManualClock) -> None:
    deliver(rt.pipeline, message("m1", "Shipper chưa giao hàng, đơn đặt 5 ngày rồi",
                                 channel="zalo", sender="0912345678", when=clock.now()))


def test_service_ticket_goes_yellow_then_red_exactly_once(rt: bootstrap.Runtime,
                                                          clock: ManualClock) -> None:
    start = clock.now()
    delivery_complaint(rt, clock)
    state = clocks(rt)["state"]
    assert state["policy"] == "service"
    assert set(state["timers"]) == {"first_response", "resolution"}
    # 4 h to a first response, yellow at 80%: 3 h 12 min
    assert clocks(rt)["next"] == start + timedelta(hours=3, minutes=12)
    clock.advance(timedelta(hours=3))
    assert sweeper(rt).sweep().steps == 0
    clock.advance(timedelta(minutes=13))
    done = sweeper(rt).sweep()
    assert (done.escalated, done.steps) == (1, 1)
    assert clocks(rt)["level"] == "yellow"
    assert sweeper(rt).sweep().steps == 0  # once
    clock.advance(timedelta(hours=1))
    assert sweeper(rt).sweep().steps == 1
    assert clocks(rt)["level"] == "red"
    assert events(rt) == [("first_response", 1, "warning"), ("first_response", 2, "breach")]
    with rt.db.read() as conn:
        told = conn.execute(select(outbox.c.recipient, outbox.c.kind, outbox.c.payload)
                            .where(outbox.c.kind == "sla_notice")).all()
        reasons = [r.reason for r in conn.execute(
            select(journal.c.reason).where(journal.c.action == "escalated"))]
    assert [(t.recipient, t.kind) for t in told] == [("hoa@shop.example.vn", "sla_notice")]
    assert "MC-1" in told[0].payload["subject"]
    assert reasons[0].startswith("first_response turned yellow")
    assert reasons[1].startswith("first_response turned red") and "told hoa" in reasons[1]


def test_a_late_sweep_records_every_level_passed(rt: bootstrap.Runtime,
                                                 clock: ManualClock) -> None:
    delivery_complaint(rt, clock)
    clock.advance(timedelta(days=2))  # past first response, resolution, and the ladder
    sweeper(rt).sweep()
    assert sorted(events(rt)) == sorted([
        ("first_response", 1, "warning"), ("first_response", 2, "breach"),
        ("first_response", 3, "escalation"), ("resolution", 1, "warning"),
        ("resolution", 2, "breach"), ("resolution", 3, "escalation")])
    assert clocks(rt)["next"] is None  # nothing left to wait for


def test_two_sweepers_at_once_never_double(rt: bootstrap.Runtime, clock: ManualClock) -> None:
    for n in range(30):
        deliver(rt.pipeline, message(f"m{n}", "Shipper chưa giao hàng", channel="zalo",
                                     sender=f"09123456{n:02d}", when=clock.now()))
    clock.advance(timedelta(hours=5))
    results = []

    def run() -> None:
        results.append(sweeper(rt).sweep())

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.steps for r in results) == 60  # 30 tickets × (yellow, red)
    assert len(events(rt)) == 60
    assert len(set((e[0], e[1]) for e in events(rt))) == 2


def test_answer_waits_resolve_reopen(rt: bootstrap.Runtime, clock: ManualClock) -> None:
    delivery_complaint(rt, clock)
    settings = rt.settings
    clock.advance(timedelta(hours=1))
    with rt.db.write() as conn:
        desk.record_first_response(conn, settings, 1, "lan", clock.now())
    state = clocks(rt)["state"]
    assert state["timers"]["first_response"]["met"] is True
    # the customer writes again: a next response is owed (8 h)
    clock.advance(timedelta(hours=1))
    deliver(rt.pipeline, message("m2", "Sao vẫn chưa giao?", channel="zalo",
                                 sender="0912345678", when=clock.now()))
    state = clocks(rt)["state"]
    assert state["timers"]["next_response"]["done"] is None
    # waiting on the customer pauses every customer timer; their answer resumes them
    resolution_due = keeper_for(settings).view(state, clock.now())["timers"]["resolution"]["due"]
    with rt.db.write() as conn:
        desk.set_status(conn, settings, 1, "pending_customer", "lan", clock.now())
    assert clocks(rt)["next"] is None  # nothing runs while the customer holds it
    clock.advance(timedelta(hours=5))
    deliver(rt.pipeline, message("m3", "Đây là mã đơn DH25220868", channel="zalo",
                                 sender="0912345678", when=clock.now()))
    view = keeper_for(settings).view(clocks(rt)["state"], clock.now())
    assert view["waiting_on"] is None and view["waits_seconds"]["customer"] == 5 * 3600
    assert view["timers"]["resolution"]["due"] == resolution_due + timedelta(hours=5)
    # resolve stops everything; reopen restarts the resolution clock
    with rt.db.write() as conn:
        desk.resolve(conn, settings, 1, "lan", clock.now())
    assert clocks(rt)["next"] is None
    assert ("resolution", 0, "met") in events(rt)
    clock.advance(timedelta(hours=1))
    with rt.db.write() as conn:
        desk.reopen(conn, settings, 1, "lan", clock.now())
    state = clocks(rt)["state"]
    assert state["timers"]["resolution"]["done"] is None
    assert datetime.fromisoformat(state["timers"]["resolution"]["start"]) == clock.now()


def test_reclassify_recomputes_under_the_new_policy(rt: bootstrap.Runtime,
                                                    clock: ManualClock) -> None:
    delivery_complaint(rt, clock)
    with rt.db.write() as conn:
        desk.reclassify(conn, rt.settings, 1, "product", None, "lan", clock.now())
    state = clocks(rt)["state"]
    assert state["policy"] == "supplier_matters"
    assert state["timers"]["resolution"]["target"] == 3 * 24 * 3600


def test_a_vip_ticket_keeps_the_vip_policy_when_reclassified(rt: bootstrap.Runtime,
                                                             clock: ManualClock) -> None:
    """The tier is known when the ticket opens (from the customer's orders); a change of
    category later must not drop a VIP's complaint to the ordinary policy."""
    from tickets import catalog as cat

    with rt.db.write() as conn:
        cat.write_suppliers(conn, [cat.SupplierRow(1, "SUP1", "Sen", (), (), ())], clock.now())
        cat.write_orders(conn, [cat.OrderRow(1, "DH20260001", "SUP1", "Tour Phú Quốc",
                                             "+84912345678", None, 25_000_000)], clock.now())
    delivery_complaint(rt, clock)  # from 0912345678: 25 million VND of orders, a VIP
    assert clocks(rt)["state"]["policy"] == "vip"
    with rt.db.write() as conn:
        desk.reclassify(conn, rt.settings, 1, "product", None, "lan", clock.now())
    state = clocks(rt)["state"]
    assert state["policy"] == "vip"
    assert state["timers"]["resolution"]["target"] == 12 * 3600
    with rt.db.read() as conn:
        ticket = queries.get_ticket(conn, "MC", 1)
    assert ticket is not None
    assert [j for j in ticket["journal"] if j["action"] == "sla"][1:] == []  # no policy move


def test_business_hours_skip_the_weekend(rt: bootstrap.Runtime, clock: ManualClock) -> None:
    clock.set(datetime(2026, 11, 28, 11, 50, tzinfo=HCM).astimezone(UTC))  # Saturday
    deliver(rt.pipeline, message("q1", "Cho hỏi voucher dùng được đến khi nào ạ?",
                                 channel="phone", sender="0912000111", when=clock.now()))
    state = clocks(rt)["state"]
    assert state["policy"] == "inquiry"
    due = keeper_for(rt.settings).view(state, clock.now())["timers"]["first_response"]["due"]
    assert due.astimezone(HCM) == datetime(2026, 11, 30, 9, 50, tzinfo=HCM)  # Monday


def test_api_shows_clocks_and_cli_explains(rt: bootstrap.Runtime, clock: ManualClock,
                                           tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from switchboard.web import create_app

    delivery_complaint(rt, clock)
    rt.settings = rt.settings.model_copy(update={"auth": load_settings(
        CONFIG, environ={"SWITCHBOARD_ADMIN_TOKEN": "admin-secret",
                         "SWITCHBOARD_SECRET": "x"}).auth})
    with TestClient(create_app(rt, run_worker=False)) as client:
        shown = client.get("/api/tickets/MC-1",
                           headers={"Authorization": "Bearer admin-secret"}).json()
    assert shown["sla"]["policy"] == "service"
    assert shown["sla"]["timers"]["first_response"]["left_seconds"] == 4 * 3600
    assert shown["sla"]["timers"]["first_response"]["due"].endswith("+07:00")
    with rt.db.read() as conn:
        state = queries.get_ticket(conn, "MC", 1)["sla_state"]  # type: ignore[index]
    lines = keeper_for(rt.settings).explain(state, clock.now())
    assert lines[0].startswith("policy service: chosen because category in ['service']")
    assert any(line.startswith("first_response: started") for line in lines)


def test_tickets_opened_together_get_clocks_of_their_own(sla_settings: Settings) -> None:
    """A batch's tickets share their opening clocks' arithmetic (worked out once per
    policy), never the clocks themselves: one ticket's answer leaves the other's running."""
    keeper = keeper_for(sla_settings)
    now = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
    facts: dict[str, str | None] = {"category": "product", "topic": None, "channel": "zalo",
                                    "tier": None, "priority": "normal", "department": None}
    first, why_first = keeper.initial(facts, True, now)
    second, why_second = keeper.initial(facts, True, now)
    assert first == second and why_first == why_second
    assert first["sla"] is not second["sla"]
    first["sla"]["timers"]["first_response"]["done"] = "2026-12-03T03:05:00+00:00"
    assert second["sla"]["timers"]["first_response"]["done"] is None
    later, _ = keeper.initial(facts, False, now + timedelta(minutes=1))
    assert later["sla"]["timers"]["first_response"]["start"] != \
        second["sla"]["timers"]["first_response"]["start"]
    assert "supplier_first_response" not in later["sla"]["timers"]
