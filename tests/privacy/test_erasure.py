"""A customer's erasure end to end: Lan called the hotline, emailed a photo, wrote on Zalo
(merged into one customer by her phone), answered the survey, has a reply waiting in the
outbox and cards in Slack. After `POST /api/customers/{id}/erase` none of her values is
anywhere: not in the database's files, the mail and attachment folders, the logs or the
Slack threads; Minh's data is untouched and the dashboard's figures do not move."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from switchboard.desk import actions
from switchboard.desk.slack_cards import ERASED
from switchboard.insight import reports
from switchboard.redact import RedactingFormatter
from switchboard.wiring.email import make_intake
from tests.connectors.chat import ADMIN, fixture_json
from tests.connectors.slack.conftest import Desk
from tickets import personal_data, store
from tickets.database import Database
from tickets.erasure import MARKER
from tickets.messages import customer_channels
from tickets.schema import customers, identities, journal, messages, metadata, outbox, tickets

LAN_ZALO, MINH_ZALO = "2512523625412599", "2512523625417777"
PHOTO = b"PNG-LAN-BROKEN-VASE-" * 64
LAN = ["Nguyễn Thị Lan", "0912345678", "+84912345678", "0912 345 678", "84912345678",
       "lan.nguyen@gmail.com", LAN_ZALO, "ngõ Hoa Sữa", "bình hoa vỡ nát",
       "voucher spa Hoa Sen bị từ chối", "Bình hoa vỡ — Lan"]
MINH = ["Trần Văn Minh", "+84987654321", MINH_ZALO, "không đăng nhập được"]


def zalo(sender: str, text_: str, msg_id: str, stamp: int) -> bytes:
    body = fixture_json("zalo", "documented_user_send_text.json")
    body["sender"]["id"] = sender
    body["message"] = {"text": text_, "msg_id": msg_id}
    body["timestamp"] = str(stamp)
    return json.dumps(body, ensure_ascii=False).encode()


def lan_mail() -> bytes:
    mail = EmailMessage()
    mail["From"] = "Nguyễn Thị Lan <lan.nguyen@gmail.com>"
    mail["To"] = "hotro@shop.example.vn"
    mail["Subject"] = "Bình hoa vỡ — Lan"
    mail["Message-ID"] = "<CAF-lan-0001@mail.gmail.com>"
    mail.set_content("Em là Lan, sđt 0912 345 678. Đơn DH25220868: bình hoa vỡ nát khi "
                     "nhận, ảnh đính kèm. Địa chỉ 12 ngõ Hoa Sữa.")
    mail.add_attachment(PHOTO, maintype="image", subtype="png", filename="binh-vo.png")
    return mail.as_bytes()


def figures(desk: Desk) -> Any:
    rt = desk.chat.rt
    today = rt.clock.now().date()
    f = reports.Filters(today - timedelta(days=7), today + timedelta(days=1))
    with rt.db.read() as conn:
        report = reports.build(conn, f, rt.settings.zone, "MC", rt.clock.now(),
                               sorted(customer_channels()), {})
    return report.totals, {k: t.rows for k, t in report.tables.items()
                           if k not in ("late_open",)}


def database_text(db: Database) -> str:
    """Everything the database holds: its files on SQLite (free pages and the write-ahead
    log included), every row of every table on PostgreSQL."""
    if db.is_sqlite:
        path = Path(str(make_url(db.url).database))
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*")
                        ).decode("utf-8", "replace")
    with db.read() as conn:
        return "\n".join(str(row[0]) for table in metadata.sorted_tables
                         for row in conn.execute(text(f'SELECT t::text FROM "{table.name}" t')))


def files_text(root: Path) -> str:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file()).decode(
        "utf-8", "replace")


async def lan_and_minh(desk: Desk, tmp_path: Path) -> tuple[int, int]:
    chat, rt = desk.chat, desk.chat.rt
    stamp = int(rt.clock.now().timestamp() * 1000)
    call = await chat.client.post("/api/calls", headers=ADMIN, json={
        "caller": "0912 345 678", "name": "Nguyễn Thị Lan", "call_id": "call-lan-1",
        "summary": "Khách hỏi voucher spa Hoa Sen bị từ chối, nhà ở 12 ngõ Hoa Sữa"})
    assert call.status_code == 202, call.text
    await chat.settle()
    intake = make_intake(rt.settings, rt.db, rt.clock)
    assert (await __import__("asyncio").to_thread(intake.take, lan_mail())).new
    await chat.settle()
    for body in (zalo(LAN_ZALO, "Mình là Lan 0912345678, voucher spa Hoa Sen bị từ chối ạ",
                      "lan-z-1", stamp),
                 zalo(MINH_ZALO, "Tôi là Trần Văn Minh 0987654321, app không đăng nhập được",
                      "minh-z-1", stamp + 1)):
        assert (await chat.zalo_event(body)).status_code == 200
    await chat.settle()
    lan = (await chat.client.get("/api/customers", params={"phone": "0912345678"},
                                 headers=ADMIN)).json()
    minh = (await chat.client.get("/api/customers", params={"phone": "0987654321"},
                                  headers=ADMIN)).json()
    return lan["customer_id"], minh["customer_id"]


@pytest.mark.usefixtures("catalog")
async def test_an_erased_customer_leaves_nothing_behind(desk: Desk, tmp_path: Path,
                                                        caplog: pytest.LogCaptureFixture
                                                        ) -> None:
    caplog.set_level(logging.DEBUG)
    chat, rt = desk.chat, desk.chat.rt
    lan_id, minh_id = await lan_and_minh(desk, tmp_path)
    assert lan_id != minh_id
    with rt.db.read() as conn:
        lan_tickets = conn.execute(select(tickets.c.id, tickets.c.channel,
                                          tickets.c.assigned_supplier_id)
                                   .where(tickets.c.customer_id.in_(
                                       select(customers.c.id).where(
                                           (customers.c.id == lan_id)
                                           | (customers.c.merged_into == lan_id))))).all()
    assert {t.channel for t in lan_tickets} >= {"phone", "email", "zalo"}, lan_tickets
    assert any(t.assigned_supplier_id for t in lan_tickets)  # the photo went to a supplier
    zalo_ticket = next(t.id for t in lan_tickets if t.channel == "zalo")
    email_ticket = next(t.id for t in lan_tickets if t.channel == "email")

    # the survey: her Zalo ticket resolved, the question sent, her answer recorded
    with rt.db.write() as conn:
        actions.resolve(conn, rt.settings, zalo_ticket, "lan", rt.clock.now(), rt.secret)
    await chat.settle()
    stamp = int(rt.clock.now().timestamp() * 1000) + 10
    await chat.zalo_event(zalo(LAN_ZALO, "5", "lan-z-2", stamp))
    await chat.settle()
    with rt.db.read() as conn:
        assert conn.execute(select(tickets.c.csat).where(tickets.c.id == zalo_ticket)
                            ).scalar() == 5
    # an agent's note repeating where she lives
    with rt.db.write() as conn:
        store.append_journal(conn, email_ticket, rt.clock.now(), [store.JournalEntry(
            "note", "Đã gọi lại, giao bình mới tới 12 ngõ Hoa Sữa", actor="lan")])
    # a reply waiting in the outbox (not dispatched)
    answer = await chat.reply(f"MC-{email_ticket}", "Chào chị Nguyễn Thị Lan, shop đã nhận.")
    assert answer.status_code == 202
    before = figures(desk)
    held = database_text(rt.db) + files_text(tmp_path)
    assert [v for v in LAN if v not in held] == []  # what the check below looks for is real
    assert desk.cards() and (tmp_path / "attachments").exists()
    assert PHOTO[:20].decode() in files_text(tmp_path / "attachments")

    erased = await chat.client.post(f"/api/customers/{lan_id}/erase", headers=ADMIN,
                                    json={"reason": "yêu cầu xóa dữ liệu ngày 03/12"})
    assert erased.status_code == 200, erased.text
    done = erased.json()
    assert done["tickets"] == len(lan_tickets) and done["identities"] >= 3
    assert done["outbox_cancelled"] >= 1 and done["files_removed"] >= 2
    await chat.settle()

    # nothing of hers anywhere; Minh's all there
    everything = database_text(rt.db)
    stored = files_text(tmp_path)
    logged = "\n".join(RedactingFormatter("%(message)s").format(r) for r in caplog.records
                       if r.levelno >= logging.INFO)
    for value in LAN:
        assert value not in everything, value
        assert value not in stored, value
        assert value not in logged, value
    assert PHOTO[:20].decode() not in stored
    for value in MINH:
        assert value in everything, value
    # the dashboard's figures do not move
    assert figures(desk) == before
    # Slack: her thread lines now say they were erased, her cards were redrawn
    edits = [c for c in desk.calls("chat.update") if c.get("text") == ERASED]
    assert edits
    with rt.db.read() as conn:
        assert conn.execute(select(outbox.c.status).where(
            outbox.c.channel == "email", outbox.c.ticket_id == email_ticket,
            outbox.c.kind == "reply")).scalar() == "cancelled"
        entries = conn.execute(select(journal.c.ticket_id, journal.c.reason)
                               .where(journal.c.action == "erased")).all()
        assert {e.ticket_id for e in entries} == {t.id for t in lan_tickets}
        assert all("yêu cầu xóa dữ liệu" in e.reason for e in entries)
        assert conn.execute(select(messages.c.text).where(
            messages.c.ticket_id == zalo_ticket)).scalars().all() == [MARKER] * len(
            conn.execute(select(messages.c.id).where(
                messages.c.ticket_id == zalo_ticket)).all())
        audit = personal_data.access_log(conn, lan_id)
    assert [a["action"] for a in audit] == ["profile", "erase"]
    assert "0912" not in json.dumps(audit, default=str)

    # twice is harmless; a replay stays a no-op; writing again makes a new customer
    again = await chat.client.post(f"/api/customers/{lan_id}/erase", headers=ADMIN,
                                   json={"reason": "lần hai"})
    assert again.status_code == 200 and again.json()["tickets"] == 0
    await chat.zalo_event(zalo(LAN_ZALO, "Mình là Lan 0912345678, voucher spa Hoa Sen bị "
                                         "từ chối ạ", "lan-z-1", stamp))
    await chat.settle()
    with rt.db.read() as conn:
        assert conn.execute(select(messages.c.id).where(
            messages.c.external_id == "lan-z-1")).first() is None
        count = len(conn.execute(select(tickets.c.id)).all())
    await chat.zalo_event(zalo(LAN_ZALO, "Chào shop, mình hỏi chút", "lan-z-3", stamp + 99))
    await chat.settle()
    with rt.db.read() as conn:
        assert len(conn.execute(select(tickets.c.id)).all()) == count + 1
        new_owner = conn.execute(select(identities.c.customer_id).where(
            identities.c.value == LAN_ZALO)).scalar()
    assert new_owner not in (None, lan_id)


async def test_erase_needs_an_admin_a_reason_and_a_customer(desk: Desk) -> None:
    client = desk.chat.client
    agent = {"Authorization": "Bearer agent-secret"}
    assert (await client.post("/api/customers/1/erase", headers=agent,
                              json={"reason": "x"})).status_code == 403
    assert (await client.post("/api/customers/999/erase", headers=ADMIN,
                              json={"reason": "x"})).status_code == 404
    assert (await client.post("/api/customers/1/erase", headers=ADMIN,
                              json={"reason": "  "})).status_code == 422
    assert (await client.post("/api/customers/1/erase", headers=ADMIN,
                              json={})).status_code == 422
