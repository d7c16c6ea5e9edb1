"""Duties every worker runs on PostgreSQL, claimed with FOR UPDATE SKIP LOCKED: two outbox
dispatchers drain a backlog built while the platform was down, and two SLA sweepers race
over the same due tickets: every reply sent once, every escalation once."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from switchboard import bootstrap
from switchboard.jobs.sla_sweeper import Sweeper
from switchboard.outbox.dispatcher import Dispatcher
from switchboard.settings import load_settings
from switchboard.ticket_rules.sla_keeper import keeper_for
from switchboard.wiring.chats import chat_senders
from tests.conftest import CONFIG
from tests.connectors.chat import ZALO_APP, ZALO_KEY, zalo_answer
from tests.connectors.fakes import Scripted
from tests.helpers import deliver, message
from tickets import migrate, outbox
from tickets.clock import ManualClock
from tickets.database import Database
from tickets.messages import Channel, OutboundMessage
from tickets.schema import outbox as outbox_table
from tickets.schema import sla_events


async def test_two_dispatchers_send_a_backlog_exactly_once(
        pg_url: str, fake_platform: Callable[..., Any]) -> None:
    zalo = await fake_platform(zalo_answer)
    settings = load_settings(CONFIG, environ={}, overrides={
        "database.url": pg_url, "channels.zalo.enabled": True, "channels.zalo.app_id": ZALO_APP,
        "channels.zalo.secret_key": ZALO_KEY, "channels.zalo.access_token": "t",
        "channels.zalo.api_url": zalo.url, "channels.send_timeout": "2s",
        "outbox.backoff_base": "1s", "outbox.max_attempts": 20, "outbox.batch_size": 7})
    db = Database(pg_url)
    migrate.upgrade(db)
    clock = ManualClock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    total = 120
    with db.write() as conn:
        for i in range(total):
            outbox.enqueue(conn, ticket_id=None, message=OutboundMessage(
                Channel.ZALO, f"user-{i}", f"trả lời số {i}", "MC-0",
                thread={"user_id": f"user-{i}"}), kind="reply", now=clock.now())
    zalo.script = [Scripted(status=503, body={"error": "down"})] * 40  # the platform is down
    dispatchers = [Dispatcher(settings.outbox, db, clock, chat_senders(settings))
                   for _ in range(2)]
    for _ in range(200):
        await asyncio.gather(*(d.run_once() for d in dispatchers))
        with db.read() as conn:
            left = conn.execute(select(outbox_table.c.id).where(
                outbox_table.c.status != "sent")).first()
        if left is None:
            break
        clock.advance(timedelta(seconds=30))
    refused = 40  # the scripted answers come first, in the order the requests arrived
    assert len(zalo.received) >= refused
    sent: Counter[str] = Counter(r.json()["message"]["text"] for r in zalo.received[refused:])
    with db.read() as conn:
        statuses = Counter(conn.execute(select(outbox_table.c.status)).scalars())
    assert statuses == {"sent": total}
    assert len(sent) == total and set(sent.values()) == {1}, sent.most_common(3)
    for d in dispatchers:
        for sender in set(d.senders.values()):
            await sender.aclose()
    db.dispose()


def test_two_sweepers_escalate_each_step_once(pg_url: str) -> None:
    settings = load_settings(CONFIG, environ={"SWITCHBOARD_SECRET": "s"}, overrides={
        "database.url": pg_url,
        "agents": [{"name": "hoa", "email": "hoa@shop.example.vn", "role": "manager",
                    "departments": ["logistics", "front_line", "complaint_desk",
                                    "customer_care"]}],
        "email.mailboxes": [{"address": "hotro@shop.example.vn"}]})
    db = Database(pg_url)
    migrate.upgrade(db)
    clock = ManualClock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    rt = bootstrap.build(settings, clock)
    rt.db.dispose()
    rt.db = rt.pipeline.db = db
    deliver(rt.pipeline, *[message(f"m{i}", "đơn hàng giao chậm quá, shipper không gọi",
                                   sender=f"u{i}", when=clock.now()) for i in range(60)])
    clock.advance(timedelta(days=2))  # every ticket is past its warning and its deadline
    sweepers = [Sweeper(settings, db, clock, keeper_for(settings)) for _ in range(3)]
    errors: list[BaseException] = []

    def run(s: Sweeper) -> None:
        try:
            for _ in range(5):
                s.sweep()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in sweepers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with db.read() as conn:
        steps = Counter((r.ticket_id, r.timer, r.level) for r in conn.execute(
            select(sla_events.c.ticket_id, sla_events.c.timer, sla_events.c.level)
            .where(sla_events.c.kind.in_(["warning", "breach", "escalation"]))))
        notices = Counter(conn.execute(select(outbox_table.c.ticket_id).where(
            outbox_table.c.kind == "sla_notice")).scalars())
    assert steps and set(steps.values()) == {1}
    tickets_red = {t for (t, _, level) in steps if level == 2}
    assert len(tickets_red) == 60
    # one email to the manager per red or ladder step, whoever swept it
    told_steps = Counter(t for (t, _, level) in steps if level >= 2)
    assert notices == told_steps
    db.dispose()
