from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import bindparam, select

from tickets.database import Database
from tickets.fastsql import FastInsert, FastSelect
from tickets.schema import customers, journal, tickets

NOW = datetime(2026, 11, 23, 1, 2, 3, 456789, tzinfo=UTC)


def test_fast_insert_stores_what_core_would(db: Database) -> None:
    with db.write() as conn:
        customer = FastInsert(customers, returning_id=True).one(
            conn, {"name": "Lan", "name_key": "lan", "created_at": NOW})
        ticket = FastInsert(tickets, returning_id=True).one(conn, {
            "status": "open", "channel": "zalo", "category": "product", "department": "d",
            "priority": "normal", "customer_id": customer, "sender_kind": "customer",
            "confidence": 0.5, "rules": ["a", "b"], "tags": [], "sla_level": "none",
            "created_at": NOW, "updated_at": NOW})
        FastInsert(journal).many(conn, [
            {"ticket_id": ticket, "at": NOW, "actor": "x", "action": "created", "reason": "r",
             "data": {"k": [1, "đ"]}}] * 2)
    with db.read() as conn:
        row = conn.execute(select(tickets)).one()
        entries = conn.execute(select(journal.c.data)).scalars().all()
    assert (row.id, row.customer_id, row.rules, row.created_at) == (ticket, customer,
                                                                      ["a", "b"], NOW)
    assert entries == [{"k": [1, "đ"]}] * 2


def test_fast_and_core_write_the_same_time_text(db: Database) -> None:
    """Times stored on the cursor and through Core are the same text (SQLite compares them
    as text): a whole second too, which sqlite3's own adapter would write without
    `.000000`, and a query through either path finds both rows at that very time."""
    from sqlalchemy import insert, text

    whole = datetime(2026, 11, 23, 1, 2, 3, tzinfo=UTC)
    with db.write() as conn:
        FastInsert(customers).one(conn, {"name": "fast", "name_key": "f", "created_at": whole})
        conn.execute(insert(customers).values(name="core", name_key="c", created_at=whole))
    at_or_after = FastSelect(select(customers.c.name)
                             .where(customers.c.created_at >= bindparam("since")))
    with db.read() as conn:
        if conn.dialect.name == "sqlite":
            stored = conn.execute(text("SELECT DISTINCT created_at FROM customers")).all()
            assert stored == [("2026-11-23 01:02:03.000000",)]
        assert sorted(r[0] for r in at_or_after.all(conn, {"since": whole})) == ["core",
                                                                                  "fast"]
        assert conn.execute(select(customers.c.name)
                            .where(customers.c.created_at >= whole)).scalars().all() \
            == ["fast", "core"]


def test_fast_select_processes_results_and_keeps_literals(db: Database) -> None:
    with db.write() as conn:
        FastInsert(customers).many(conn, [{"name": n, "name_key": n, "created_at": NOW}
                                          for n in ("a", "b")])
    query = FastSelect(select(customers.c.name, customers.c.created_at)
                       .where(customers.c.name != "a", customers.c.id >= bindparam("low")))
    with db.read() as conn:
        assert query.all(conn, {"low": 1}) == [("b", NOW)]
        assert query.first(conn, {"low": 9}) is None


def test_fast_select_refuses_expanding_in(db: Database) -> None:
    query = FastSelect(select(customers.c.id).where(customers.c.name.in_(["a", "b"])))
    with db.read() as conn, pytest.raises(ValueError, match="expanding IN"):
        query.all(conn, {})


def test_checkpointer_copies_the_log_into_the_database_off_the_commit_path(
        tmp_path: Path) -> None:
    """Commits leave the WAL alone (autocheckpoint is off); the thread copies it in once
    writes pause."""
    import sqlite3
    import time

    from tickets.database import Checkpointer

    path = str(tmp_path / "c.db")
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE t (x TEXT)")
    writer.executemany("INSERT INTO t VALUES (?)", [("x" * 500,)] * 2000)
    before = Path(path).stat().st_size
    checkpointer = Checkpointer(path, tick=0.01, idle=0.05)
    try:
        for _ in range(100):
            if Path(path).stat().st_size > before + 500_000:
                break
            time.sleep(0.05)
        grown = Path(path).stat().st_size  # measured before closing the writer, whose
    finally:                               # close would checkpoint by itself
        checkpointer.stop()
        writer.close()
    assert grown > before + 500_000
