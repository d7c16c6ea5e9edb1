"""A person's data, exported whole: from the CLI as an operator runs it and from the API
(admins only), with everything a merge brought together and nothing of anyone else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from switchboard.bootstrap import Runtime
from switchboard.web import create_app
from tests.helpers import deliver, message
from tests.test_cli import sb
from tickets.database import Database
from tickets.messages import Attachment

ADMIN = {"Authorization": "Bearer admin-secret"}
AGENT = {"Authorization": "Bearer agent-secret"}


@pytest.fixture
def people(runtime: Runtime, catalog: Database) -> Runtime:
    """Lan writes on Zalo, then by email naming her phone (the two become one customer), with
    a photo; Minh writes about his own order."""
    now = runtime.clock.now()
    deliver(runtime.pipeline,
            message("z-1", "Đơn DH25220868 giao thiếu hàng", channel="zalo",
                    sender="0912345678", when=now, sender_name="Lan"),
            message("e-1", "Em là Lan, sđt 0912 345 678, ảnh hàng vỡ đây ạ", channel="email",
                    sender="lan.nguyen@gmail.com", when=now, subject="Hàng vỡ",
                    attachments=(Attachment("vo.jpg", "image/jpeg", 2048, "ab" * 32),)),
            message("z-2", "Voucher của tôi bị từ chối", channel="zalo", sender="0987654321",
                    when=now, sender_name="Minh"))
    return runtime


def test_the_api_export_holds_the_whole_person_and_only_them(people: Runtime) -> None:
    with TestClient(create_app(people, run_worker=False)) as client:
        profile = client.get("/api/customers", params={"phone": "0912345678"},
                             headers=ADMIN).json()
        customer_id = profile["customer_id"]
        assert client.get(f"/api/customers/{customer_id}/export",
                          headers=AGENT).status_code == 403
        assert client.get("/api/customers/9999/export", headers=ADMIN).status_code == 404
        document = client.get(f"/api/customers/{customer_id}/export", headers=ADMIN).json()
    assert document["format"] == "switchboard.personal-data/1"
    assert {(i["kind"], i["value"]) for i in document["identities"]} == {
        ("phone", "+84912345678"), ("email", "lan.nguyen@gmail.com")}
    texts = [m["text"] for t in document["tickets"] for m in t["messages"]]
    assert any("giao thiếu hàng" in t for t in texts) and any("hàng vỡ" in t for t in texts)
    assert not any("Voucher của tôi" in t for t in texts)  # Minh's, not Lan's
    [photo] = [a for t in document["tickets"] for m in t["messages"] for a in m["attachments"]]
    assert photo == {"filename": "vo.jpg", "content_type": "image/jpeg", "size": 2048,
                     "sha256": "ab" * 32}
    assert all(t["journal"] for t in document["tickets"])
    assert "0987654321" not in json.dumps(document) and "+84987654321" not in json.dumps(
        document)


def test_the_cli_finds_the_person_by_any_identity(people: Runtime, tmp_path: Path) -> None:
    url = people.settings.database.url
    by_phone = json.loads(sb(url, "customers", "export", "--phone", "+84 912 345 678").stdout)
    out = tmp_path / "lan.json"
    sb(url, "customers", "export", "--email", "LAN.NGUYEN@gmail.com", "--out", str(out))
    by_email = json.loads(out.read_text(encoding="utf-8"))
    by_phone.pop("exported_at"), by_email.pop("exported_at")
    assert by_phone == by_email and len(by_phone["tickets"]) >= 1
    nobody = sb(url, "customers", "export", "--phone", "0900000000", check=False)
    assert nobody.returncode == 2 and "no customer" in nobody.stderr
    vague = sb(url, "customers", "export", check=False)
    assert vague.returncode == 2 and "exactly one" in vague.stderr


def test_the_cli_erases_after_asking_and_logs_who_exported(people: Runtime) -> None:
    url = people.settings.database.url
    sb(url, "customers", "export", "--phone", "0912345678")
    refused = sb(url, "customers", "erase", "--phone", "0912345678", "--reason", "yêu cầu",
                 check=False)
    assert refused.returncode != 0  # no --yes and no one to say yes: nothing happens
    assert "lan.nguyen@gmail.com" in sb(url, "customers", "export", "--phone",
                                        "0912345678").stdout
    done = json.loads(sb(url, "customers", "erase", "--email", "lan.nguyen@gmail.com",
                         "--reason", "khách yêu cầu qua hotline", "--yes").stdout)
    assert done["identities"] == 2 and done["tickets"] >= 1
    assert sb(url, "customers", "export", "--phone", "0912345678",
              check=False).returncode == 2  # nobody has that phone any more
    audit = sb(url, "privacy", "audit", "--customer", str(done["customer_id"])).stdout
    assert audit.count("export") == 2 and "erase" in audit and "cli" in audit
    again = json.loads(sb(url, "customers", "erase", "--id", str(done["customer_id"]),
                          "--reason", "again", "--yes").stdout)
    assert again["tickets"] == 0 and again["identities"] == 0
    minh = json.loads(sb(url, "customers", "export", "--phone", "0987654321").stdout)
    assert any("Voucher của tôi" in m["text"] for t in minh["tickets"] for m in t["messages"])
