"""`POST /api/orders`: the shop's system upserts an order as it moves; the bot then tells
its customer where it is (and nobody else)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from switchboard.bootstrap import Runtime
from switchboard.cli.answer import answer_lines
from switchboard.web import create_app
from tickets.database import Database
from tickets.schema import orders

ADMIN = {"Authorization": "Bearer admin-secret"}
AGENT = {"Authorization": "Bearer agent-secret"}
ORDER: dict[str, Any] = {"order_code": "mc200416", "supplier_id": "SUP001",
                         "product": "Kem chống nắng SPF50", "amount": 350000,
                         "customer_phone": "0912 345 678", "status": "confirmed"}


@pytest.fixture
def client(runtime: Runtime, catalog: Database) -> Iterator[TestClient]:
    with TestClient(create_app(runtime, run_worker=False)) as test_client:
        yield test_client


def ask(runtime: Runtime, sender: str, text: str) -> dict[str, Any]:
    import io

    out = io.StringIO()
    line = json.dumps({"id": "q", "channel": "zalo", "from": sender, "text": text})
    answer_lines(runtime.settings, runtime.db, io.StringIO(line + "\n"), out)
    result: dict[str, Any] = json.loads(out.getvalue())
    return result


def test_an_order_is_created_then_moves_and_only_its_customer_hears_of_it(
        client: TestClient, runtime: Runtime) -> None:
    created = client.post("/api/orders", json=ORDER, headers=ADMIN)
    assert created.status_code == 200 and created.json() == {
        "order_code": "MC200416", "created": True, "status": "confirmed"}
    moved = client.post("/api/orders", headers=ADMIN, json={
        **ORDER, "status": "shipping", "carrier": "GHN", "tracking_code": "GHN8812345",
        "status_at": "2026-11-23T08:30:00+07:00", "expected_at": "2026-11-25"})
    assert moved.json()["created"] is False
    with runtime.db.read() as conn:
        row = conn.execute(select(orders).where(orders.c.code == "MC200416")).one()
    assert (row.status, row.carrier, row.customer_phone) == ("shipping", "GHN", "+84912345678")
    mine = ask(runtime, "0912345678", "Đơn MC200416 của tôi đến đâu rồi?")
    assert (mine["action"], mine["kind"], mine["order_code"]) == ("answer", "order_status",
                                                                   "MC200416")
    assert "GHN8812345" in mine["text"] and "25/11/2026" in mine["text"]
    stranger = ask(runtime, "0987000111", "Đơn MC200416 của tôi đến đâu rồi?")
    assert (stranger["action"], stranger["reason"], stranger["text"]) == (
        "handover", "unknown_order", None)


def test_bad_orders_are_refused_with_the_reason(client: TestClient) -> None:
    assert client.post("/api/orders", json=ORDER, headers=AGENT).status_code == 403
    unknown = client.post("/api/orders", json={**ORDER, "supplier_id": "SUP999"},
                          headers=ADMIN)
    assert unknown.status_code == 409 and "SUP999" in unknown.json()["detail"]
    for bad in ({"status": "lost"}, {"customer_phone": "call me"}, {"amount": -1},
                {"expected_at": "next week"}, {"extra": 1}):
        assert client.post("/api/orders", json={**ORDER, **bad},
                           headers=ADMIN).status_code == 422, bad
