"""People's corrections of the router are kept as labelled examples: from Slack's menu and
the API, exported in the labelled sets' format, counted on the dashboard, and gone with the
person when they are erased."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from switchboard.bootstrap import Runtime
from switchboard.desk import actions, privacy
from switchboard.insight import reports
from switchboard.web import create_app
from tests.helpers import deliver, message
from tests.test_cli import sb
from tickets import corrections
from tickets.database import Database

ADMIN = {"Authorization": "Bearer admin-secret"}


@pytest.fixture
def client(runtime: Runtime, catalog: Database) -> Iterator[TestClient]:
    with TestClient(create_app(runtime, run_worker=False)) as test_client:
        yield test_client


def test_a_correction_is_kept_exported_counted_and_erased(client: TestClient,
                                                          runtime: Runtime) -> None:
    now = runtime.clock.now()
    deliver(runtime.pipeline,
            message("c1", "Mình muốn hỏi chút về cái đơn hôm qua, shipper bảo không gọi được",
                    channel="phone", sender="0912000111", when=now),
            message("c2", "App báo lỗi khi đăng nhập bằng số điện thoại", channel="phone",
                    sender="0912000222", when=now))
    with runtime.db.write() as conn:
        actions.reclassify(conn, runtime.settings, 1, "supplier", None, "lan", now)
    moved = client.post("/api/tickets/MC-2/reclassify",
                        json={"category": "service", "topic": "other"}, headers=ADMIN)
    assert moved.status_code == 200, moved.text
    assert moved.json()["topic"] == "other"
    again = client.post("/api/tickets/MC-2/reclassify",
                        json={"category": "service", "topic": "other"}, headers=ADMIN)
    assert again.status_code == 409
    assert client.post("/api/tickets/MC-99/reclassify", json={"category": "product"},
                       headers=ADMIN).status_code == 404
    with runtime.db.read() as conn:
        lines = list(corrections.examples(conn))
    assert [(x["expected"]["category"], x["expected"]["topic"], x["corrected"]["via"])
            for x in lines] == [("supplier", None, "slack"), ("service", "other", "api")]
    assert lines[0]["text"].startswith("Mình muốn hỏi") and "router" in lines[0]
    assert lines[0]["router"]["category"] != "supplier"

    day = now.astimezone(runtime.settings.zone).date()
    with runtime.db.read() as conn:
        report = reports.build(conn, reports.Filters(day, day), runtime.settings.zone, "MC",
                               now + timedelta(hours=1), ["phone"], {})
    rows = report.tables["corrections"].rows
    assert sum(r[2] for r in rows) == 2 and sum(r[3] for r in rows) == 2

    privacy.erase(runtime.db, runtime.settings, 1, "admin", "test", "asked", now)
    with runtime.db.read() as conn:
        left = list(corrections.examples(conn))
    assert [x["expected"]["topic"] for x in left] == ["other"]


def test_corrections_export_from_the_command_line(tmp_path: object) -> None:
    from pathlib import Path

    url = f"sqlite:///{Path(str(tmp_path))}/c.db"
    feed = Path(str(tmp_path)) / "feed.jsonl"
    feed.write_text(json.dumps({"id": "p1", "channel": "phone", "from": "0912000333",
                                "text": "Khách hỏi cách đổi mật khẩu tài khoản"},
                               ensure_ascii=False), encoding="utf-8")
    sb(url, "ingest", str(feed))
    assert sb(url, "corrections", "export").stdout == ""
