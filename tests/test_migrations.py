from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from tests.conftest import _postgres_database
from tickets import migrate, search_index
from tickets.database import Database
from tickets.schema import metadata


def test_migrations_build_exactly_the_schema(db: Database) -> None:
    """A model change without a migration fails here (run `switchboard` autogenerate)."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True,
            "include_name": lambda name, kind, parent: not search_index.is_own(name)})
        assert compare_metadata(context, metadata) == []


def test_upgrade_is_idempotent_and_at_head(db: Database) -> None:
    migrate.upgrade(db)
    assert migrate.current(db) == migrate.head()


def test_the_head_every_command_checks_is_the_newest_script(db: Database) -> None:
    """`migrate.HEAD` lets commands skip importing Alembic; a new migration must move it."""
    assert migrate.head() == migrate.scripts_head()
    with db.engine.connect() as conn:
        assert migrate.current(db) == MigrationContext.configure(conn).get_current_revision()


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Database]:
    """A second empty database beside `db`, on the same kind of server."""
    base = os.environ.get("SWITCHBOARD_TEST_DATABASE_URL")
    if base and base.startswith("postgresql"):
        urls: Iterator[str] = _postgres_database(
            base.replace("postgresql://", "postgresql+psycopg://", 1))
    else:
        urls = iter([f"sqlite:///{tmp_path}/fresh.db"])
    database = Database(next(urls))
    yield database
    database.dispose()
    for _ in urls:  # drops the PostgreSQL database
        pass


def _schema(db: Database) -> dict[str, Any]:
    """Everything the inspector can say about every table, in a comparable form."""
    with db.engine.connect() as conn:
        found = inspect(conn)
        schema: dict[str, Any] = {}
        for table in sorted(found.get_table_names()):
            schema[table] = {
                # by name: a migration appends the columns it adds, create_all does not
                "columns": sorted((c["name"], str(c["type"]), c["nullable"],
                                   str(c.get("default")), str(c.get("autoincrement")))
                                  for c in found.get_columns(table)),
                "primary_key": found.get_pk_constraint(table),
                "indexes": sorted((i["name"] or "", tuple(i["column_names"]), i["unique"],
                                   str(i.get("dialect_options", {})))
                                  for i in found.get_indexes(table)),
                "unique": sorted((u["name"] or "", tuple(u["column_names"]))
                                 for u in found.get_unique_constraints(table)),
                "foreign_keys": sorted(
                    (f["name"] or "", tuple(f["constrained_columns"]), f["referred_table"],
                     tuple(f["referred_columns"]), str(f.get("options", {})))
                    for f in found.get_foreign_keys(table)),
                "checks": sorted((c["name"] or "", c["sqltext"])
                                 for c in found.get_check_constraints(table)),
            }
        return schema


def test_a_new_database_is_created_as_the_migrations_build_it(db: Database,
                                                              fresh: Database) -> None:
    """`migrate.create` (a new database in one go) and the migrations replayed one by one
    must leave the same tables, columns, keys, indexes and constraints, stamped alike."""
    assert migrate.prepare(fresh) == "created"
    assert migrate.current(fresh) == migrate.head() == migrate.current(db)
    assert _schema(fresh) == _schema(db)
    # later migrations start from either: upgrading the created one finds nothing to do
    migrate.upgrade(fresh)
    assert migrate.current(fresh) == migrate.head()
    assert migrate.prepare(fresh) == "upgraded"  # it has tables: never created twice


def test_the_search_migration_indexes_the_messages_already_there(fresh: Database) -> None:
    """A database at 0007 with messages: 0008 folds them and indexes them."""
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from tickets import search, store
    from tickets.schema import customers, messages, tickets

    migrate.upgrade(fresh, "0007")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with fresh.engine.begin() as conn:
        conn.execute(insert(customers).values(id=1, created_at=now))
        conn.execute(insert(tickets).values(
            id=1, status="open", channel="zalo", category="service", department="logistics",
            priority="normal", customer_id=1, sender_kind="customer", confidence=1.0,
            rules=[], tags=[], sla_level="none", created_at=now, updated_at=now))
        conn.execute(insert(messages), [  # as 0007 wrote them: no folded column yet
            {"ticket_id": 1, "direction": "in", "channel": "zalo", "external_id": f"m{i}",
             "author": "x", "author_kind": "customer", "text": t, "attachments": [],
             "created_at": now} for i, t in enumerate(["Chưa nhận được HÀNG", "Đơn đâu rồi"])])
    migrate.upgrade(fresh)
    with fresh.engine.begin() as conn:
        query = search.parse("chua nhan duoc hang")
        assert query is not None
        assert search.newest_matching(conn, query, None, 10) == [(1, 1)]
        store.add_message(conn, {"ticket_id": 1, "direction": "in", "channel": "zalo",
                                 "external_id": "m9", "author": "x", "author_kind": "customer",
                                 "subject": None, "text": "đơn ĐÂU rồi shop", "attachments": [],
                                 "classification": None, "meta": None, "created_at": now})
        query = search.parse("don dau")
        assert query is not None
        assert [m for m, _ in search.newest_matching(conn, query, None, 10)] == [3, 2]
