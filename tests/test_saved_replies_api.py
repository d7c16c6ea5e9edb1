"""Saved replies through the API: `GET /api/replies` lists them, and
`POST /api/tickets/{ref}/replies {"saved": code}` sends one filled in for the ticket, in the
customer's language; an unknown code is a 422 and a variable the ticket lacks a 409, both
naming what was wrong, with nothing sent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from switchboard.bootstrap import Runtime
from switchboard.web import create_app
from tickets.database import Database

ADMIN = {"Authorization": "Bearer admin-secret"}


@pytest.fixture
def client(runtime: Runtime, catalog: Database) -> Iterator[TestClient]:
    with TestClient(create_app(runtime, run_worker=False)) as test_client:
        for body in (
            {"external_id": "z-1", "channel": "zalo", "from": "0392039371",
             "name": "Nguyễn Thị Lan", "text": "Đơn DH25220868 giao tới hộp bị móp, máy bị hỏng"},
            {"external_id": "z-2", "channel": "zalo", "from": "0912345678",
             "text": "Hello, my order has not arrived yet, please check it for me"},
        ):
            assert test_client.post("/api/messages", json=body,
                                    headers=ADMIN).status_code == 202
        runtime.pipeline.run_batch()
        yield test_client


def answers(client: TestClient, ref: str) -> list[dict[str, Any]]:
    ticket = client.get(f"/api/tickets/{ref}", headers=ADMIN).json()
    return [m for m in ticket["messages"] if m["direction"] == "out"
            and m["author_kind"] == "agent"]


def send(client: TestClient, ref: str, body: object) -> Any:
    return client.post(f"/api/tickets/{ref}/replies", json=body, headers=ADMIN)


def test_a_saved_reply_is_filled_in_for_the_ticket_and_sent(client: TestClient) -> None:
    listed = client.get("/api/replies", headers=ADMIN)
    assert listed.status_code == 200
    codes = {item["code"]: item["title"] for item in listed.json()["items"]}
    assert "to_supplier" in codes and codes["refund_time"].startswith("Thời gian hoàn tiền")

    sent = send(client, "MC-1", {"saved": "to_supplier"})
    assert sent.status_code == 202, sent.text
    ticket = client.get("/api/tickets/MC-1", headers=ADMIN).json()
    due = datetime.fromisoformat(ticket["sla"]["timers"]["resolution"]["due"])
    [answer] = answers(client, "MC-1")
    assert answer["text"].startswith("Dạ em chào chị Lan.")  # Vietnamese, as she wrote
    for part in ("MC-1", "Titan Fitness", "DH25220868", f"{due:%d/%m %H:%M}"):
        assert part in answer["text"]
    replied = [j for j in ticket["journal"] if j["action"] == "replied"]
    assert replied[-1]["data"]["saved"] == "to_supplier"

    english = send(client, "MC-2", {"saved": "ask_order"})  # no name, written in English
    assert english.status_code == 202, english.text
    [answer] = answers(client, "MC-2")
    assert answer["text"].startswith("Dear valued customer, this is admin.")


def test_unknown_codes_and_missing_variables_are_named_and_nothing_is_sent(
        client: TestClient) -> None:
    missing = send(client, "MC-2", {"saved": "wrong_item"})  # MC-2 names no order
    assert missing.status_code == 409
    assert "'wrong_item' needs order.product" in missing.json()["detail"]
    unknown = send(client, "MC-2", {"saved": "nope"})
    assert unknown.status_code == 422
    assert "no saved reply 'nope'" in unknown.json()["detail"]
    assert answers(client, "MC-2") == []
    assert send(client, "MC-99", {"saved": "resolved"}).status_code == 404


@pytest.mark.parametrize("body", [
    {}, {"text": "Dạ", "saved": "resolved"}, {"saved": "resolved", "html": "<p>x</p>"},
    {"text": None, "saved": "resolved"}, {"saved": None}, {"saved": ""}, {"html": "<p>x</p>"},
])
def test_exactly_one_of_text_and_saved(client: TestClient, body: dict[str, Any]) -> None:
    refused = send(client, "MC-1", body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"].startswith("body")
    assert answers(client, "MC-1") == []


def test_the_document_lists_the_codes(client: TestClient, runtime: Runtime) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]["ReplyIn"]
    typed, saved = schema["oneOf"]
    assert typed["required"] == ["text"] and saved["required"] == ["saved"]
    assert saved["properties"]["saved"]["enum"] == runtime.replies.codes()
