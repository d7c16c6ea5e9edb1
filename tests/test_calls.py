"""The hotline: calls logged by agents join or open the caller's ticket."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.bootstrap import Runtime
from switchboard.web import create_app
from switchboard.web.calls import CALLER
from tests.helpers import message_count, ticket_count
from tickets.database import Database
from tickets.identities import normalize_phone

ADMIN = {"Authorization": "Bearer admin-secret"}
AGENT = {"Authorization": "Bearer agent-secret"}


@pytest.fixture
def client(runtime: Runtime, catalog: Database) -> Iterator[TestClient]:
    with TestClient(create_app(runtime, run_worker=False)) as test_client:
        yield test_client


def call(client: TestClient, body: dict[str, Any], headers: dict[str, str] | None = None,
         ) -> Any:
    return client.post("/api/calls", json=body, headers={**ADMIN, **(headers or {})})


def test_a_call_opens_a_ticket_classified_from_the_summary(client: TestClient,
                                                           runtime: Runtime) -> None:
    answer = call(client, {"caller": "0912 345 678", "call_id": "pbx-1",
                           "summary": "Khách gọi báo đơn DH25220868 giao tới hộp bị móp, "
                                      "máy bị hỏng", "duration_seconds": 240})
    assert answer.status_code == 202
    assert answer.json() == {"status": "queued", "channel": "phone",
                             "external_id": "call:pbx-1"}
    runtime.pipeline.run_batch()
    detail = client.get("/api/tickets/MC-1", headers=ADMIN).json()
    assert (detail["channel"], detail["category"], detail["supplier_id"]) == \
        ("phone", "product", "SUP022")
    assert detail["messages"][0]["author"] == "+84912345678"
    customer = client.get("/api/customers", params={"phone": "+84912345678"},
                          headers=ADMIN).json()
    assert [t["ref"] for t in customer["tickets"]] == ["MC-1"]


def test_a_call_joins_the_callers_open_ticket_on_another_channel(client: TestClient,
                                                                 runtime: Runtime) -> None:
    client.post("/api/messages", headers=ADMIN, json={
        "external_id": "z-1", "channel": "zalo", "from": "+84 912 345 678",
        "text": "Đơn DH25220868 chưa giao, đã 5 ngày rồi"})
    runtime.pipeline.run_batch()
    call(client, {"caller": "0912345678", "call_id": "pbx-2",
                  "summary": "Khách gọi hỏi lại đơn chưa giao"})
    runtime.pipeline.run_batch()
    assert ticket_count(runtime.db) == 1 and message_count(runtime.db) == 2
    detail = client.get("/api/tickets/MC-1", headers=ADMIN).json()
    assert [m["channel"] for m in detail["messages"]] == ["zalo", "phone"]


def test_an_agent_can_file_a_call_under_a_named_ticket(client: TestClient,
                                                       runtime: Runtime) -> None:
    client.post("/api/messages", headers=ADMIN, json={
        "external_id": "e-1", "channel": "email", "from": "chong@gmail.com",
        "text": "Voucher buffet không dùng được"})
    runtime.pipeline.run_batch()
    call(client, {"caller": "0987 654 321", "call_id": "pbx-3", "ticket": "MC-1",
                  "summary": "Vợ anh ấy gọi thay, hỏi tiến độ", "direction": "outbound"})
    runtime.pipeline.run_batch()
    assert ticket_count(runtime.db) == 1
    detail = client.get("/api/tickets/MC-1", headers=ADMIN).json()
    assert detail["messages"][-1]["channel"] == "phone"


def test_retried_posts_log_the_call_once(client: TestClient, runtime: Runtime) -> None:
    body = {"caller": "0912345678", "summary": "Hỏi giờ mở cửa"}
    first = call(client, body, {"Idempotency-Key": "k-1"})
    again = call(client, body, {"Idempotency-Key": "k-1"})
    by_id = call(client, dict(body, call_id="pbx-9"))
    by_id_again = call(client, dict(body, call_id="pbx-9"))
    assert [r.status_code for r in (first, again, by_id, by_id_again)] == [202, 200, 202, 200]
    assert again.json()["status"] == "duplicate"
    runtime.pipeline.run_batch()
    assert message_count(runtime.db) == 2


@pytest.mark.parametrize(("body", "status", "reason"), [
    ({"caller": "not a number", "summary": "x"}, 422, "is not a phone number"),
    ({"caller": "0912345678"}, 422, "summary: is required"),
    ({"caller": "0912345678", "summary": "x", "direction": "sideways"}, 422, "direction"),
    ({"caller": "0912345678", "summary": "x", "ticket": "banana"}, 422,
     "not a ticket reference"),
    ({"caller": "0912345678", "summary": "x", "started_at": "2026-11-22T10:00:00"}, 422,
     "time zone"),
])
def test_bad_calls_are_refused_with_the_reason(client: TestClient, runtime: Runtime,
                                               body: dict[str, Any], status: int,
                                               reason: str) -> None:
    answer = call(client, body)
    assert answer.status_code == status
    assert reason in answer.json()["detail"]
    assert runtime.pipeline.run_batch() == []


def test_malformed_oversized_and_unauthenticated_calls(client: TestClient,
                                                       runtime: Runtime) -> None:
    bad = client.post("/api/calls", content=b"{nope", headers=ADMIN)
    assert bad.status_code == 400
    huge = client.post("/api/calls", headers=ADMIN, json={
        "caller": "0912345678", "summary": "x" * 3_000_000})
    assert huge.status_code == 413
    assert client.post("/api/calls", json={"caller": "0912345678", "summary": "x"}
                       ).status_code == 401
    assert call(client, {"caller": "0912345678", "summary": "ok"}, AGENT).status_code == 202
    assert runtime.pipeline.run_batch()[0].action == "created"


@given(st.from_regex(CALLER, fullmatch=True))
@settings(max_examples=500, deadline=None)
def test_every_caller_the_api_document_allows_is_a_phone_number(caller: str) -> None:
    """The OpenAPI document promises `CALLER`; the server must then find a phone in it."""
    assert normalize_phone(caller.strip()) is not None


@pytest.mark.parametrize("ticket", ["MC-0", "MC-999999999999"])
def test_a_reference_naming_no_ticket_opens_a_new_one(client: TestClient, runtime: Runtime,
                                                      ticket: str) -> None:
    """Found by schemathesis: a well-formed reference to no possible ticket is taken like
    one to a ticket that does not exist (and never reaches the database as a number)."""
    answer = call(client, {"caller": "0912 345 678", "summary": "Khách hỏi giờ mở cửa",
                           "ticket": ticket})
    assert answer.status_code == 202
    runtime.pipeline.run_batch()
    assert client.get("/api/tickets/MC-1", headers=ADMIN).status_code == 200
