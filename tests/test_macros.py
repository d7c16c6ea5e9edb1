"""Macros: several actions in one go, each journaled as if done by hand, all or nothing;
from the API and from Slack's `/macro`."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from switchboard.bootstrap import Runtime
from switchboard.settings import MacroSettings
from switchboard.web import create_app
from tests.helpers import deliver, message
from tickets.database import Database
from tickets.schema import journal, outbox, tickets

ADMIN = {"Authorization": "Bearer admin-secret"}


@pytest.fixture
def late(runtime: Runtime, catalog: Database) -> Runtime:
    deliver(runtime.pipeline, message("z1", "Đơn DH25220868 giao chậm quá, 5 ngày chưa tới",
                                      channel="zalo", sender="7001",
                                      when=runtime.clock.now()))
    return runtime


def _ticket(rt: Runtime) -> tuple[str, str, list[str]]:
    with rt.db.read() as conn:
        row = conn.execute(select(tickets.c.status, tickets.c.priority, tickets.c.tags)
                           .where(tickets.c.id == 1)).one()
    return row.status, row.priority, list(row.tags)


def test_a_macro_runs_every_step_as_if_by_hand(late: Runtime) -> None:
    with TestClient(create_app(late, run_worker=False)) as client:
        listed = client.get("/api/macros", headers=ADMIN).json()
        assert {m["name"] for m in listed} >= {"late_delivery", "to_supplier"}
        ran = client.post("/api/tickets/MC-1/macros/late_delivery", headers=ADMIN)
        assert ran.status_code == 200, ran.text
        assert len(ran.json()["done"]) == 3
        assert client.post("/api/tickets/MC-1/macros/nope", headers=ADMIN).status_code == 404
    status, _, tags = _ticket(late)
    assert status == "pending_carrier" and "late_delivery" in tags
    with late.db.read() as conn:
        actions = [a for (a,) in conn.execute(select(journal.c.action).where(
            journal.c.ticket_id == 1).order_by(journal.c.id))]
        replies = conn.execute(select(outbox.c.kind).where(outbox.c.kind == "reply")).all()
    assert {"replied", "status_changed", "tagged", "macro"} <= set(actions)
    assert len(replies) == 1


def test_a_step_that_cannot_be_done_undoes_the_others(late: Runtime) -> None:
    broken = MacroSettings(name="broken", actions=(
        {"priority": "high"}, {"tag": "vip_care"}, {"reply": "no_such_reply"}))
    late.settings = late.settings.model_copy(update={"macros": (broken,)})
    before = _ticket(late)
    with TestClient(create_app(late, run_worker=False)) as client:
        ran = client.post("/api/tickets/MC-1/macros/broken", headers=ADMIN)
    assert ran.status_code == 409 and "step 3" in ran.json()["detail"]
    assert _ticket(late) == before
    with late.db.read() as conn:
        assert not conn.execute(select(journal.c.id).where(
            journal.c.action.in_(["tagged", "macro", "priority_changed"]))).all()


def test_settings_refuse_an_unknown_action_or_department(late: Runtime) -> None:
    with pytest.raises(ValueError, match="unknown action"):
        MacroSettings(name="x", actions=({"explode": "now"},))
    with pytest.raises(ValueError, match="department"):
        late.settings.model_validate({**late.settings.model_dump(), "macros": [
            {"name": "y", "actions": [{"transfer": "nowhere"}]}]})
