"""A portal on the test database: two suppliers with one user each, a manager, and
complaints put through the real pipeline."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from switchboard import bootstrap
from switchboard.desk import accounts
from switchboard.settings import Settings, load_settings
from switchboard.web.app import create_app
from tests.conftest import CONFIG
from tests.helpers import deliver, message
from tickets.clock import ManualClock
from tickets.database import Database

MANAGER = {"name": "hoa", "email": "hoa@shop.example.vn", "role": "manager",
           "departments": []}
AGENT = {"name": "lan", "email": "lan@shop.example.vn", "departments": ["complaint_desk"]}
SEN = ("sen.staff@senbuffet.vn", "SUP001")
HOANG_GIA = ("staff@hoanggiabuffet.vn", "SUP002")
PASSWORD = "đúng-mật-khẩu-123"
MAILBOX = {"address": "hotro@shop.example.vn", "name": "Hỗ trợ"}


@pytest.fixture
def portal_settings(settings: Settings) -> Settings:
    return load_settings(CONFIG, environ={"SWITCHBOARD_SECRET": "test-secret"},
                         overrides={"database.url": settings.database.url,
                                    "agents": [MANAGER, AGENT],
                                    "email.mailboxes": [MAILBOX],
                                    "portal.base_url": "https://portal.example.vn"})


@dataclass
class Portal:
    rt: bootstrap.Runtime
    clock: ManualClock

    def client(self) -> TestClient:
        return TestClient(create_app(self.rt, run_worker=False), base_url="https://testserver",
                          follow_redirects=False)

    def login(self, client: TestClient, email: str, password: str = PASSWORD) -> int:
        page = client.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token is not None
        answer = client.post("/login", data={"csrf": token.group(1), "email": email,
                                             "password": password})
        return answer.status_code

    def csrf(self, client: TestClient, path: str) -> str:
        page = client.get(path)
        assert page.status_code == 200, page.text
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found is not None
        return found.group(1)

    def complaint(self, external_id: str, text: str, sender: str = "7001",
                  channel: str = "telegram") -> str:
        outcomes = deliver(self.rt.pipeline, message(
            external_id, text, channel=channel, sender=sender, when=self.clock.now(),
            sender_name="Nguyễn Thị Mai"))
        assert outcomes and outcomes[0].ref, outcomes
        self.clock.advance(timedelta(seconds=1))
        return outcomes[0].ref


@pytest.fixture
def portal(portal_settings: Settings, catalog: Database, clock: ManualClock
           ) -> Iterator[Portal]:
    rt = bootstrap.build(portal_settings, clock)
    rt.db.dispose()
    rt.db = rt.pipeline.db = catalog
    add_accounts(catalog, portal_settings, clock)
    yield Portal(rt, clock)


def add_accounts(db: Database, settings: Settings, clock: ManualClock) -> None:
    """A user for each of two suppliers, and the manager."""
    with db.write() as conn:
        for email, supplier in (SEN, HOANG_GIA):
            accounts.add_user(conn, settings, email, f"Staff {supplier}", PASSWORD,
                              supplier, clock.now())
        accounts.add_user(conn, settings, MANAGER["email"], "Hoa", PASSWORD, None,
                          clock.now())
