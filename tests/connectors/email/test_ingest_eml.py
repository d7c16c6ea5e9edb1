"""`switchboard ingest-eml`: a folder of mail (the corpus, plus enough customers' mail to use
the parsing processes) becomes tickets once, however often it is run, and what fails waits in
the inbox for the worker instead of being lost."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from switchboard.cli.commands import ingest_eml
from switchboard.pipeline.runner import Pipeline
from switchboard.settings import Settings, load_settings
from tests.conftest import CONFIG
from tests.connectors.email.conftest import FIXTURES
from tickets import inbox, migrate
from tickets.clock import SystemClock
from tickets.database import Database
from tickets.messages import InboundMessage
from tickets.schema import inbox as inbox_table
from tickets.schema import messages, outbox, tickets

CUSTOMERS = 210  # over the 200 from which the import parses in several processes


def customer_mail(n: int) -> bytes:
    return (f"Message-ID: <import-{n}@mail.example.vn>\r\n"
            f"From: =?UTF-8?Q?Kh=C3=A1ch_{n}?= <khach{n}@example.vn>\r\n"
            "To: hotro@shop.example.vn\r\n"
            f"Subject: =?UTF-8?Q?=C4=90=C6=A1n_DH2026{n:04d}_ch=C6=B0a_giao?=\r\n"
            "Date: Mon, 23 Nov 2026 08:12:45 +0700\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            f"Shop ơi đơn DH2026{n:04d} của em đặt tuần trước mà chưa thấy giao ạ.\r\n"
            ).encode()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    mail = tmp_path / "import"
    shutil.copytree(FIXTURES, mail, ignore=shutil.ignore_patterns("*.json", "*.md", "*.txt"))
    for n in range(CUSTOMERS):
        (mail / "customers" / f"{n:04d}.eml").parent.mkdir(exist_ok=True)
        (mail / "customers" / f"{n:04d}.eml").write_bytes(customer_mail(n))
    return mail


@pytest.fixture
def import_settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(CONFIG, environ={"SWITCHBOARD_SECRET": "test-secret"},
                         overrides={"database.url": database_url,
                                    "email.raw_dir": str(tmp_path / "raw"),
                                    "email.attachments.dir": str(tmp_path / "files")})


@pytest.fixture
def import_db(import_settings: Settings) -> Any:
    database = Database(import_settings.database.url)
    migrate.upgrade(database)
    yield database
    database.dispose()


def count(db: Database, table: Any) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_folder_becomes_tickets_once(folder: Path, import_settings: Settings,
                                       import_db: Database) -> None:
    files = len(list(folder.rglob("*.eml")))
    lines: list[str] = []
    first = ingest_eml(import_settings, import_db, folder, lines.append, workers=2)
    assert sum(first.values()) == files
    assert first["created"] >= CUSTOMERS and "failed" not in first
    assert lines[-1].startswith(f"{files} messages read from {folder}: ")
    made, kept = count(import_db, tickets), count(import_db, messages)
    assert made == first["created"]
    assert count(import_db, inbox_table) == 0  # the files are the copy: no inbox round trip
    raw = list((Path(import_settings.email.raw_dir)).rglob("*"))
    assert len([p for p in raw if p.is_file()]) >= CUSTOMERS  # every raw message is kept

    again = ingest_eml(import_settings, import_db, folder, lines.append, workers=2)
    assert "created" not in again and "joined" not in again
    assert sum(again.values()) == files and again["duplicate"] >= CUSTOMERS
    assert (count(import_db, tickets), count(import_db, messages)) == (made, kept)


def test_what_fails_waits_in_the_inbox_for_the_worker(
        folder: Path, database_url: str, tmp_path: Path, import_db: Database,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """One customer's first mail fails; their follow-up, in a later batch, must wait behind
    it; the worker then takes both in order and, the mail being history, acknowledges
    neither."""
    settings = load_settings(CONFIG, environ={"SWITCHBOARD_SECRET": "test-secret"},
                             overrides={"database.url": database_url,
                                        "email.raw_dir": str(tmp_path / "raw"),
                                        "email.attachments.dir": str(tmp_path / "files"),
                                        "worker.batch_size": 2})
    shutil.rmtree(folder / "customers")
    for n in range(4):
        (folder / f"customer-{n}.eml").write_bytes(customer_mail(n))
    (folder / "customer-9.eml").write_bytes(customer_mail(1).replace(
        b"<import-1@", b"<import-1-again@").replace(b"\r\n\r\n", b"\r\nIn-Reply-To: "
                                                     b"<import-1@mail.example.vn>\r\n\r\n"))
    process = Pipeline.process

    def broken(self: Pipeline, conn: Any, message: InboundMessage, *args: Any) -> Any:
        if message.external_id == "<import-1@mail.example.vn>":
            raise RuntimeError("the store hiccuped")
        return process(self, conn, message, *args)

    monkeypatch.setattr(Pipeline, "process", broken)
    lines: list[str] = []
    counts = ingest_eml(settings, import_db, folder, lines.append, workers=1)
    assert counts["failed"] == 2  # the failure and the follow-up held behind it
    assert "the 2 failed wait in the inbox for the worker's retries" in lines[-1]
    with import_db.read() as conn:
        waiting = inbox.stats(conn)
    assert (waiting.waiting, waiting.dead) == (2, 0)

    monkeypatch.setattr(Pipeline, "process", process)
    worker = Pipeline(settings, import_db, SystemClock(), secret=b"test-secret")
    assert [o.action for o in worker.run_batch()] == ["created", "joined"]
    assert count(import_db, inbox_table) == 0
    assert count(import_db, tickets) == counts["created"] + 1
    assert count(import_db, outbox) == 0  # no "we received it" for old mail, retried or not
