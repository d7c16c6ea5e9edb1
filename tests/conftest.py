"""Shared fixtures: a migrated database (SQLite by default, PostgreSQL when
SWITCHBOARD_TEST_DATABASE_URL says so), a movable clock, the default configuration."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from switchboard import bootstrap
from switchboard.settings import Settings, load_settings
from tickets import migrate
from tickets.clock import ManualClock
from tickets.database import Database

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config.yaml"
DATA = Path(__file__).resolve().parent / "data"


def require_services() -> bool:
    return os.environ.get("SWITCHBOARD_REQUIRE_SERVICES") == "1"


def service_missing(reason: str) -> None:
    """Skip when a service is absent on a developer machine; fail in CI."""
    if require_services():
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason)


def _postgres_database(base_url: str) -> Iterator[str]:
    """A fresh database on the given server, dropped afterwards."""
    name = f"sb_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        service_missing(f"PostgreSQL at {base_url}: {exc}")
    url = base_url.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    base = os.environ.get("SWITCHBOARD_TEST_DATABASE_URL")
    if base and base.startswith("postgresql"):
        yield from _postgres_database(base.replace("postgresql://", "postgresql+psycopg://", 1))
    else:
        yield f"sqlite:///{tmp_path}/test.db"


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The shipped configuration with the rules alone: these tests are about what the rules
    and the pipeline do, word by word; the text model's part is tested on its own
    (tests/test_model.py), through the command line (tests/test_cli.py) and on the labelled
    sets (`make test` runs benchmarks/classify_accuracy.py with it)."""
    return load_settings(CONFIG, environ={"SWITCHBOARD_ADMIN_TOKEN": "admin-secret",
                                          "SWITCHBOARD_AGENT_TOKEN": "agent-secret",
                                          "SWITCHBOARD_SECRET": "test-secret"},
                         overrides={"database.url": database_url, "classifier.model": "off"})


@pytest.fixture(scope="session")
def rules_only_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """config.yaml with `classifier.model: off`, for tests that run the command line."""
    import yaml

    data = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    data.setdefault("classifier", {})["model"] = "off"
    path = tmp_path_factory.mktemp("config") / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return path


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings.database.url)
    migrate.upgrade(database)
    yield database
    database.dispose()


@pytest.fixture
def runtime(settings: Settings, db: Database, clock: ManualClock) -> bootstrap.Runtime:
    rt = bootstrap.build(settings, clock)
    rt.db.dispose()
    rt.db = db
    rt.pipeline.db = db
    return rt


@pytest.fixture
def catalog(db: Database, clock: ManualClock) -> Database:
    """The labelled development set's suppliers and orders, imported."""
    from tickets import catalog as cat

    with db.write() as conn:
        cat.write_suppliers(conn, cat.parse_suppliers(DATA / "classify" / "suppliers.csv"),
                            clock.now())
    with db.read() as conn:
        known = [s.id for s in cat.load_suppliers(conn)]
    with db.write() as conn:
        cat.write_orders(conn, cat.parse_orders(DATA / "classify" / "orders.csv", known),
                         clock.now())
    return db
