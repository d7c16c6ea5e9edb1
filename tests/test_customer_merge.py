"""Two customers merged by hand, then the merge undone within a day: exactly what moved
moves back; later tickets stay; past a day, or twice, the undo is refused."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from switchboard.bootstrap import Runtime
from switchboard.web import create_app
from tests.helpers import deliver, message
from tickets.schema import customers, identities, journal, tickets

ADMIN = {"Authorization": "Bearer admin-secret"}


def _owners(rt: Runtime) -> tuple[dict[str, int], dict[int, int]]:
    with rt.db.read() as conn:
        ids = {v: int(c) for v, c in conn.execute(select(identities.c.value,
                                                         identities.c.customer_id))}
        owned = {int(t): int(c) for t, c in conn.execute(select(tickets.c.id,
                                                                tickets.c.customer_id))}
    return ids, owned


def test_merge_by_hand_and_undo_within_a_day(runtime: Runtime) -> None:
    rt = runtime
    now = rt.clock.now()
    deliver(rt.pipeline,
            message("z1", "Voucher bị từ chối", channel="zalo", sender="7001", when=now),
            message("p1", "Khách gọi về voucher", channel="phone", sender="0912345678",
                    when=now, sender_name="Nguyễn Thị Lan"))
    ids, owned = _owners(rt)
    zalo, phone = ids["7001"], ids["+84912345678"]
    assert zalo != phone
    with TestClient(create_app(rt, run_worker=False)) as client:
        merged = client.post(f"/api/customers/{zalo}/merge", json={"into": phone},
                             headers=ADMIN)
        assert merged.status_code == 201, merged.text
        merge_id = merged.json()["merge"]
        ids_after, owned_after = _owners(rt)
        assert ids_after["7001"] == phone and set(owned_after.values()) == {phone}
        assert client.post(f"/api/customers/{zalo}/merge", json={"into": phone},
                           headers=ADMIN).status_code == 409  # already merged
        # a ticket opened since the merge stays with the kept customer after the undo
        deliver(rt.pipeline, message("z2", "Còn chuyện nữa", channel="zalo", sender="7001",
                                     when=now + timedelta(days=4)))
        undone = client.post(f"/api/customers/merges/{merge_id}/undo", headers=ADMIN)
        assert undone.status_code == 200, undone.text
        again = client.post(f"/api/customers/merges/{merge_id}/undo", headers=ADMIN)
        assert again.status_code == 409 and "already undone" in again.json()["detail"]
    ids_back, owned_back = _owners(rt)
    assert ids_back == ids and {t: owned_back[t] for t in owned} == owned
    with rt.db.read() as conn:
        assert conn.execute(select(customers.c.merged_into).where(
            customers.c.id == zalo)).scalar() is None
        actions = conn.execute(select(journal.c.action).where(journal.c.action.in_(
            ["customer_merged", "customer_unmerged"]))).scalars().all()
    assert sorted(actions) == ["customer_merged", "customer_unmerged"]


def test_an_undo_after_a_day_is_refused(runtime: Runtime) -> None:
    rt = runtime
    now = rt.clock.now()
    deliver(rt.pipeline,
            message("z1", "Voucher bị từ chối", channel="zalo", sender="7001", when=now),
            message("z2", "Hỏi giờ mở cửa", channel="zalo", sender="7002", when=now))
    ids, _ = _owners(rt)
    with TestClient(create_app(rt, run_worker=False)) as client:
        merge_id = client.post(f"/api/customers/{ids['7001']}/merge",
                               json={"into": ids["7002"]}, headers=ADMIN).json()["merge"]
        rt.clock.advance(timedelta(hours=25))
        late = client.post(f"/api/customers/merges/{merge_id}/undo", headers=ADMIN)
    assert late.status_code == 409 and "24 hours" in late.json()["detail"]
