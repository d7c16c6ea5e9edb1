from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from switchboard.bootstrap import Runtime
from switchboard.web import create_app
from tests.helpers import message_count, ticket_count
from tickets.database import Database

ADMIN = {"Authorization": "Bearer admin-secret"}


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime, run_worker=False)) as test_client:
        yield test_client


def post(client: TestClient, body: object, headers: dict[str, str] | None = None) -> object:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = ADMIN if headers is None else headers
    return client.post("/api/messages", content=raw,
                       headers={"Content-Type": "application/json", **sent})


MESSAGE = {"external_id": "ext-1", "channel": "zalo", "from": "0912 345 678",
           "text": "Đơn DH25220868 giao tới hộp bị móp, máy bị hỏng"}


def test_message_queued_then_processed_and_replay_is_duplicate(client: TestClient,
                                                               runtime: Runtime,
                                                               catalog: Database) -> None:
    first = post(client, MESSAGE)
    assert first.status_code == 202  # type: ignore[attr-defined]
    assert first.json() == {"status": "queued", "channel": "zalo", "external_id": "ext-1"}  # type: ignore[attr-defined]
    replay = post(client, MESSAGE)
    assert (replay.status_code, replay.json()["status"]) == (200, "duplicate")  # type: ignore[attr-defined]
    runtime.pipeline.run_batch()
    assert post(client, MESSAGE).json()["status"] == "queued"  # type: ignore[attr-defined]
    runtime.pipeline.run_batch()
    assert (ticket_count(runtime.db), message_count(runtime.db)) == (1, 1)
    page = client.get("/api/tickets", headers=ADMIN).json()
    assert page["total"] == 1 and page["items"][0]["ref"] == "MC-1"
    assert page["items"][0]["supplier_id"] == "SUP022"
    detail = client.get("/api/tickets/MC-1", headers=ADMIN).json()
    assert detail["messages"][0]["channel"] == "zalo"
    assert [j["action"] for j in detail["journal"]][:2] == ["created", "classified"]
    customer = client.get("/api/customers", params={"phone": "+84 912 345 678"},
                          headers=ADMIN).json()
    assert customer["identities"] == [{"kind": "phone", "value": "+84912345678"}]
    assert [t["ref"] for t in customer["tickets"]] == ["MC-1"]


@pytest.mark.parametrize(("body", "status", "reason"), [
    (b"{not json", 400, "malformed JSON"),
    (b'{"external_id": "x", "channel": "zalo", "from": "1", "text": "\xff"}', 400,
     "not valid UTF-8"),
    (b"[1, 2]", 400, "expected a JSON object"),
    ({"external_id": "x", "channel": "zalo", "from": "1"}, 422, "text: is required"),
    ({"external_id": "x", "channel": "pigeon", "from": "1", "text": "hi"}, 422,
     "unknown channel 'pigeon'"),
    ({"channel": "zalo", "from": "1", "text": "hi"}, 422, "external_id: is required"),
    ({"external_id": "x", "channel": "zalo", "from": "1", "text": "  "}, 422, "text is empty"),
])
def test_bad_input_gets_a_clear_4xx_and_changes_nothing(client: TestClient, runtime: Runtime,
                                                        body: object, status: int,
                                                        reason: str) -> None:
    response = post(client, body)
    assert response.status_code == status  # type: ignore[attr-defined]
    assert reason in response.json()["detail"]  # type: ignore[attr-defined]
    assert runtime.pipeline.run_batch() == []


def test_oversized_body_is_refused(client: TestClient, runtime: Runtime) -> None:
    big = dict(MESSAGE, text="x" * 3_000_000)
    response = post(client, big)
    assert response.status_code == 413  # type: ignore[attr-defined]
    assert "limit" in response.json()["detail"]  # type: ignore[attr-defined]
    assert runtime.pipeline.run_batch() == []


def test_long_text_under_body_limit_is_refused_by_text_limit(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(update={
        "http": runtime.settings.http.model_copy(update={"max_body_bytes": 2_000_000})})
    runtime.settings = settings
    with TestClient(create_app(runtime, run_worker=False)) as client:
        response = post(client, dict(MESSAGE, text="x" * 1_000_000))
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "the limit is 100000" in response.json()["detail"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"},
                                     {"Authorization": "Basic YTpi"}])
def test_wrong_token_is_401(client: TestClient, headers: dict[str, str]) -> None:
    assert post(client, MESSAGE, headers).status_code == 401  # type: ignore[attr-defined]
    assert client.get("/api/tickets", headers=headers).status_code == 401


def test_filters_pagination_and_search(client: TestClient, runtime: Runtime) -> None:
    for i, text in enumerate(["Shipper chưa giao hàng", "Hàng bị vỡ nát", "cho hỏi giờ mở cửa ạ"]):
        post(client, {"external_id": f"e{i}", "channel": "messenger", "from": f"u{i}",
                      "text": text})
    runtime.pipeline.run_batch()
    get = lambda **p: client.get("/api/tickets", params=p, headers=ADMIN).json()  # noqa: E731
    assert get()["total"] == 3
    assert [t["ref"] for t in get(limit=2)["items"]] == ["MC-3", "MC-2"]
    assert [t["ref"] for t in get(limit=2, offset=2)["items"]] == ["MC-1"]
    assert [t["topic"] for t in get(category="service")["items"]] == ["delivery"]
    assert [t["ref"] for t in get(q="vỡ")["items"]] == ["MC-2"]
    assert get(department="front_line")["items"][0]["category"] == "inquiry"
    assert client.get("/api/tickets/MC-99", headers=ADMIN).status_code == 404
    assert client.get("/api/tickets/nonsense", headers=ADMIN).status_code == 404
    # a lookup that names nobody finds nobody, and says why
    unknown = client.get("/api/customers", params={"phone": "abc"}, headers=ADMIN)
    assert unknown.status_code == 404 and "not a valid phone" in unknown.json()["detail"]
    nobody = client.get("/api/customers", headers=ADMIN)
    assert nobody.status_code == 404 and "phone= or email=" in nobody.json()["detail"]
    assert client.get("/api/customers", params={"email": "x@y.vn"},
                      headers=ADMIN).status_code == 404


def test_health_and_openapi(client: TestClient) -> None:
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["inbox_waiting"] == 0
    spec = client.get("/openapi.json").json()
    assert {"/api/messages", "/api/tickets", "/api/tickets/{ref}", "/api/customers",
            "/healthz"} <= set(spec["paths"])


def test_worker_in_lifespan_processes_posted_messages(runtime: Runtime) -> None:
    with TestClient(create_app(runtime, run_worker=True)) as client:
        assert post(client, MESSAGE).status_code == 202  # type: ignore[attr-defined]
        for _ in range(100):
            if client.get("/api/tickets", headers=ADMIN).json()["total"]:
                break
            time.sleep(0.05)
        assert client.get("/api/tickets", headers=ADMIN).json()["total"] == 1
