"""`GET /metrics`: the store's figures at scrape time, exact, and the sweeper's own metrics."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import CollectorRegistry
from sqlalchemy import Connection, insert

from switchboard.bootstrap import Runtime
from switchboard.desk import actions as desk
from switchboard.insight.metrics import DatabaseCollector, build_registry
from switchboard.jobs.sla_sweeper import Sweeper
from switchboard.ticket_rules.sla_keeper import keeper_for
from switchboard.web import create_app
from tests.helpers import deliver, message
from tests.test_api import ADMIN, post
from tickets import inbox, outbox
from tickets.clock import ManualClock
from tickets.database import Database
from tickets.messages import Channel, OutboundMessage
from tickets.schema import tickets

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
ZALO = "0912 345 678"


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime, run_worker=False)) as test_client:
        yield test_client


def parse(text: str) -> Samples:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def scrape(client: TestClient) -> Samples:
    response = client.get("/metrics")  # no token: Prometheus scrapes it
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return parse(response.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def by(samples: Samples, name: str, label: str) -> dict[str, float]:
    """Non-zero samples of one name by one label (zeros are reported too; checked apart)."""
    return {dict(k)[label]: v for (n, k), v in samples.items() if n == name and v}


def queue(client: TestClient, external_id: str, channel: str, sender: str, text: str,
          **extra: str) -> None:
    response = post(client, {"external_id": external_id, "channel": channel, "from": sender,
                             "text": text, **extra})
    assert response.status_code == 202  # type: ignore[attr-defined]


def test_store_figures_are_exact(client: TestClient, runtime: Runtime, catalog: Database,
                                 clock: ManualClock) -> None:
    t0 = clock.now()
    settings = runtime.settings
    # through the real intake and pipeline: two zalo messages from one customer join one ticket
    queue(client, "z1", "zalo", ZALO, "Đơn DH25220868 giao tới hộp bị móp, máy bị hỏng")
    runtime.pipeline.run_batch()
    queue(client, "z2", "zalo", ZALO, "Sao chưa ai trả lời vậy")
    queue(client, "e1", "email", "lan@gmail.com",
          "Tôi bị trừ tiền hai lần khi thanh toán ví điện tử", subject="Hoàn tiền")
    queue(client, "t1", "telegram", "777", "Cho hỏi voucher dùng đến khi nào?")
    runtime.pipeline.run_batch()
    # an agent's answer is a message too, outbound: not counted as received
    answered = client.post("/api/tickets/MC-1/replies", json={"text": "Dạ em kiểm tra ngay"},
                           headers=ADMIN)
    assert answered.status_code == 202
    with runtime.db.write() as conn:
        desk.resolve(conn, settings, 3, "an", t0)  # the telegram question: closed, not open
        # whatever the pipeline and the reply queued is sent; the rows below are the outbox
        for item in outbox.claim(conn, t0, 100, timedelta(minutes=5)):
            outbox.mark_sent(conn, item.id, None, t0)
        # a dead letter, older than anything waiting: counted apart, not in the age
        inbox.put(conn, message("bad-1", "?", channel="messenger", when=t0), t0)
        [bad] = inbox.claim(conn, 10)
        assert inbox.fail(conn, bad.id, "boom", max_attempts=1)
        # given up on zalo at once; a zalo message still pending since t0
        enqueue(conn, Channel.ZALO, t0)
        [gone] = outbox.claim(conn, t0, 10, timedelta(minutes=5), channels=["zalo"])
        outbox.mark_failed(conn, gone.id, "HTTP 400", retry_at=None)
        enqueue(conn, Channel.ZALO, t0)
    clock.advance(timedelta(seconds=30))
    queue(client, "m-late", "messenger", "2002", "Shop ơi")  # waits in the inbox from t0+30s
    clock.advance(timedelta(seconds=30))
    now = clock.now()
    with runtime.db.write() as conn:
        for channel in (Channel.EMAIL, Channel.EMAIL, Channel.TELEGRAM):
            enqueue(conn, channel, now)
        [failed] = outbox.claim(conn, now, 1, timedelta(minutes=5), channels=["email"])
        outbox.mark_failed(conn, failed.id, "550 no such user", retry_at=None)
        outbox.claim(conn, now, 1, timedelta(minutes=5), channels=["email"])  # in flight
        [retry] = outbox.claim(conn, now, 1, timedelta(minutes=5), channels=["telegram"])
        outbox.mark_failed(conn, retry.id, "timeout", retry_at=now + timedelta(seconds=30))
    clock.advance(timedelta(seconds=60))  # scraped at t0 + 120 s

    samples = scrape(client)

    assert value(samples, "switchboard_database_up") == 1
    assert by(samples, "switchboard_tickets_total", "channel") == {
        "zalo": 1, "email": 1, "telegram": 1}
    assert by(samples, "switchboard_messages_received_total", "channel") == {
        "zalo": 2, "email": 1, "telegram": 1}
    assert value(samples, "switchboard_tickets_total", channel="messenger") == 0
    open_tickets = {(dict(k)["department"], dict(k)["level"]): v for (n, k), v
                    in samples.items() if n == "switchboard_open_tickets"}
    assert {k: v for k, v in open_tickets.items() if v} == {
        ("complaint_desk", "none"): 1, ("payments", "none"): 1}
    assert set(open_tickets) == {(d, level) for d in settings.routing.departments
                                 for level in ("none", "yellow", "red")}
    assert value(samples, "switchboard_inbox_depth") == 1
    assert value(samples, "switchboard_inbox_oldest_age_seconds") == 90
    assert value(samples, "switchboard_inbox_dead_letters") == 1
    assert value(samples, "switchboard_outbox_depth", status="pending") == 2  # zalo, telegram
    assert value(samples, "switchboard_outbox_depth", status="sending") == 1
    assert value(samples, "switchboard_outbox_oldest_pending_age_seconds") == 120
    assert by(samples, "switchboard_outbox_failed", "channel") == {"zalo": 1, "email": 1}
    assert value(samples, "switchboard_outbox_failed", channel="slack") == 0


def enqueue(conn: Connection, channel: Channel, now: datetime) -> int:
    return outbox.enqueue(conn, ticket_id=1, message=OutboundMessage(channel, "x", "Dạ", "MC-1"),
                          kind="reply", now=now)


def test_an_empty_store_reports_zeros(client: TestClient) -> None:
    samples = scrape(client)
    assert value(samples, "switchboard_database_up") == 1
    assert value(samples, "switchboard_inbox_oldest_age_seconds") == 0
    assert value(samples, "switchboard_outbox_oldest_pending_age_seconds") == 0
    assert value(samples, "switchboard_outbox_depth", status="pending") == 0
    assert not any(v for (name, _), v in samples.items() if name.startswith((
        "switchboard_tickets", "switchboard_messages", "switchboard_open", "switchboard_inbox",
        "switchboard_outbox")))


def test_a_sweep_is_observed(client: TestClient, runtime: Runtime,
                             clock: ManualClock) -> None:
    before = scrape(client)
    queue(client, "d1", "zalo", ZALO, "Shipper chưa giao hàng, đơn đặt 5 ngày rồi")
    runtime.pipeline.run_batch()
    sweeper = Sweeper(runtime.settings, runtime.db, clock, keeper_for(runtime.settings))
    assert sweeper.sweep().steps == 0
    clock.advance(timedelta(hours=3, minutes=13))  # past the warning point of first response
    assert sweeper.sweep().steps == 1
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("switchboard_sla_sweep_seconds_count") == 2
    assert delta("switchboard_sla_sweep_seconds_sum") > 0
    assert delta("switchboard_sla_sweep_seconds_bucket", le="+Inf") == 2
    assert delta("switchboard_sla_escalations_total", level="yellow") == 1
    assert delta("switchboard_sla_escalations_total", level="red") == 0
    assert value(after, "switchboard_open_tickets", level="yellow", department="logistics") == 1


def test_running_counts_stay_exact_as_rows_settle(runtime: Runtime,
                                                  clock: ManualClock) -> None:
    collector = DatabaseCollector(runtime.db, clock)
    registry = CollectorRegistry()
    registry.register(collector)

    def counted() -> dict[str, float]:
        return by(parse(generate_latest(registry).decode()), "switchboard_tickets_total",
                  "channel")

    deliver(runtime.pipeline, message("a", "Cho hỏi giờ mở cửa", channel="zalo",
                                      sender="0912000001", when=clock.now()))
    with runtime.db.write() as conn:
        add_ticket(conn, 10, "email", clock.now())
    assert counted() == {"zalo": 1, "email": 1}  # id 10 seen now: settles in 5 minutes
    clock.advance(timedelta(minutes=2))
    with runtime.db.write() as conn:  # a smaller id appearing late (PostgreSQL can do that)
        add_ticket(conn, 5, "telegram", clock.now())
    assert counted() == {"zalo": 1, "email": 1, "telegram": 1}
    assert collector.tickets.upto == 0
    clock.advance(timedelta(minutes=4))
    assert counted() == {"zalo": 1, "email": 1, "telegram": 1}
    assert collector.tickets.upto == 10  # from here on only ids above 10 are read
    with runtime.db.write() as conn:
        add_ticket(conn, 11, "email", clock.now())
    assert counted() == {"zalo": 1, "email": 2, "telegram": 1}
    assert collector.tickets.upto == 10  # 11 first seen just now
    clock.advance(timedelta(minutes=5))
    assert counted() == {"zalo": 1, "email": 2, "telegram": 1}
    assert collector.tickets.upto == 11


def add_ticket(conn: Connection, ticket_id: int, channel: str, now: datetime) -> None:
    conn.execute(insert(tickets).values(
        id=ticket_id, status="open", channel=channel, category="inquiry", department="front_line",
        priority="normal", customer_id=1, sender_kind="customer", confidence=1.0, rules=[],
        tags=[], sla_level="none", created_at=now, updated_at=now))


def test_each_app_has_its_own_registry(runtime: Runtime) -> None:
    # many apps in one process: no name registered twice, each scrape served
    for _ in range(3):
        with TestClient(create_app(runtime, run_worker=False)) as client:
            assert "switchboard_sla_sweep_seconds_count" in client.get("/metrics").text


def test_an_unreadable_database_still_serves_the_process_metrics(tmp_path: Path,
                                                                 clock: ManualClock) -> None:
    broken = Database(f"sqlite:///{tmp_path}/missing/dir/x.db")
    try:
        samples = parse(generate_latest(build_registry(broken, clock, ["payments"])).decode())
    finally:
        broken.dispose()
    assert value(samples, "switchboard_database_up") == 0
    assert "switchboard_sla_sweep_seconds_count" in {name for name, _ in samples}
    assert not any(name.startswith("switchboard_tickets") for name, _ in samples)
