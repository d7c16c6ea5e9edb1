"""Data requests reach the privacy desk under the law's deadlines; tickets past their
retention time are anonymised by the sweeper, raw mail earlier, and `switchboard privacy
report` says what is due and what was done."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from switchboard.bootstrap import Runtime
from switchboard.desk import actions
from switchboard.jobs import retention
from switchboard.settings import Settings
from tests.helpers import deliver, message
from tests.test_cli import sb
from tickets.erasure import MARKER
from tickets.schema import customers, identities, messages, tickets


@pytest.mark.parametrize("text", [
    "Tôi muốn xóa dữ liệu của tôi khỏi hệ thống của shop",
    "xoa du lieu ca nhan cua toi giup minh",
    "Please delete my data, I no longer use the app",
    "Yêu cầu cung cấp thông tin cá nhân mà công ty đang lưu về tôi",
])
def test_a_data_request_goes_to_the_privacy_desk_with_the_law_s_clock(
        runtime: Runtime, text: str) -> None:
    now = runtime.clock.now()
    deliver(runtime.pipeline, message("p-1", text, channel="email",
                                      sender="hoa@example.vn", when=now))
    with runtime.db.read() as conn:
        row = conn.execute(select(tickets.c.department, tickets.c.sla)).one()
    assert row.department == "privacy"
    assert row.sla["policy"] == "privacy"
    first = row.sla["timers"]["first_response"]
    assert first["target"] == 2 * 86400  # in wall time: within "2 working days"
    assert row.sla["timers"]["resolution"]["target"] == 15 * 86400


def _with_retention(runtime: Runtime, tmp_path: Path) -> Settings:
    settings = runtime.settings.model_copy(update={
        "privacy": runtime.settings.privacy.model_copy(update={
            "retention": runtime.settings.privacy.retention.model_copy(update={
                "closed_tickets": timedelta(days=730), "raw_mail": timedelta(days=90),
                "batch_size": 2})}),
        "email": runtime.settings.email.model_copy(update={"raw_dir": str(tmp_path)})})
    return settings


def test_retention_anonymises_old_closed_tickets_then_quiet_customers(
        runtime: Runtime, tmp_path: Path) -> None:
    settings = _with_retention(runtime, tmp_path)
    raw = tmp_path / "ab" / "old.eml"
    raw.parent.mkdir()
    raw.write_bytes(b"From: thu@example.vn\r\n\r\nHang vo")
    start = runtime.clock.now()
    deliver(runtime.pipeline,
            message("old-1", "Hàng bị vỡ, tôi là Thu 0911222333", channel="email",
                    sender="thu@example.vn", when=start, meta={"raw_path": str(raw)}),
            message("old-2", "Voucher bị từ chối", channel="zalo", sender="7001",
                    when=start))
    with runtime.db.write() as conn:
        for ticket_id in (1, 2):
            actions.resolve(conn, settings, ticket_id, "lan", start)
    runtime.clock.advance(timedelta(days=100))  # raw mail due, tickets not yet
    done = retention.sweep(runtime.db, settings, runtime.clock.now())
    assert done == {"tickets": 0, "customers": 0, "raw_mail": 1, "files": 1}
    assert not raw.exists()
    runtime.clock.advance(timedelta(days=700))
    deliver(runtime.pipeline, message("new-1", "Cho hỏi giờ mở cửa", channel="zalo",
                                      sender="7001", when=runtime.clock.now()))
    with runtime.db.read() as conn:
        report = retention.report(conn, settings, runtime.clock.now(), 30)
    assert report["due"] == {"closed_tickets": 2, "raw_mail": 0}
    done = retention.sweep(runtime.db, settings, runtime.clock.now())
    assert done["tickets"] == 2 and done["customers"] == 1  # Thu; the Zalo user wrote again
    with runtime.db.read() as conn:
        texts = conn.execute(select(messages.c.ticket_id, messages.c.text)
                             .order_by(messages.c.id)).all()
        assert {t.text for t in texts if t.ticket_id in (1, 2)} == {MARKER}
        assert "Cho hỏi giờ mở cửa" in [t.text for t in texts]
        assert conn.execute(select(identities.c.value)).scalars().all() == ["7001"]
        assert conn.execute(select(customers.c.name).where(customers.c.id == 1)).scalar() is None
        report = retention.report(conn, settings, runtime.clock.now(), 30)
    assert report["due"] == {"closed_tickets": 0, "raw_mail": 0}
    assert report["done"]["anonymise"] == 2 and report["done"]["erase"] == 1
    assert retention.sweep(runtime.db, settings, runtime.clock.now())["tickets"] == 0


def test_the_report_and_audit_from_the_command_line(runtime: Runtime) -> None:
    url = runtime.settings.database.url
    deliver(runtime.pipeline, message("p-1", "delete my data please", channel="email",
                                      sender="hoa@example.vn", when=runtime.clock.now()))
    text = sb(url, "privacy", "report").stdout
    assert "MC-1" in text and "retention" in text
    found = json.loads(sb(url, "privacy", "report", "--json").stdout)
    assert [r["ticket"] for r in found["open_requests"]] == ["MC-1"]
    assert "nothing recorded" in sb(url, "privacy", "audit", "--customer", "1").stdout
    assert sb(url, "privacy", "scrub").stdout.strip()


def test_a_ticket_the_bot_answered_and_nobody_touched_since_is_anonymised_too(
        runtime: Runtime, tmp_path: Path) -> None:
    settings = _with_retention(runtime, tmp_path)
    deliver(runtime.pipeline, message("b-1", "Hotline bên mình số mấy vậy shop?",
                                      channel="zalo", sender="7002",
                                      when=runtime.clock.now()))
    with runtime.db.read() as conn:
        assert conn.execute(select(tickets.c.status)).scalar() == "bot_answered"
    runtime.clock.advance(timedelta(days=729))
    assert retention.sweep(runtime.db, settings, runtime.clock.now())["tickets"] == 0
    runtime.clock.advance(timedelta(days=2))
    assert retention.sweep(runtime.db, settings, runtime.clock.now())["tickets"] == 1
    with runtime.db.read() as conn:
        assert {t for t in conn.execute(select(messages.c.text)).scalars()} == {MARKER}
