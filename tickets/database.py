"""Engines and transactions for SQLite (embedded) and PostgreSQL (scale-out).

One `Database` object is built by the composition root and passed down. Writers take
`write()`, which on SQLite starts with `BEGIN IMMEDIATE`: SQLite has one writer, and a
deferred transaction that later needs the write lock can fail with "database is locked"
instead of waiting for it. Readers take `read()` and never block the writer under WAL.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool


def _json_dumps(value: Any) -> str:
    # orjson: the JSON columns (rules, journal data) are written on every message
    return orjson.dumps(value).decode()


log = logging.getLogger("switchboard.database")


def normalize_url(url: str) -> str:
    """Pick the driver for the user: `sqlite:///x.db` and `postgresql://...` just work."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+pysqlite").render_as_string(hide_password=False)
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///path or postgresql://...")


def _sqlite_pragmas(synchronous: str, autocheckpoint: bool) -> Any:
    """WAL, foreign keys, a generous busy timeout, and `synchronous`: FULL (the default)
    fsyncs every commit, so a message acknowledged to its platform survives a power cut;
    NORMAL is faster but may lose the last commits then (never corrupts)."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own transaction handling is off so that BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous.upper()}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if not autocheckpoint:  # the Checkpointer thread does it, off the commit path
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.execute("PRAGMA journal_size_limit=67108864")
        # freed space is zeroed: an erased customer's texts must not linger in free pages
        # (measured: no change in the pipeline's throughput, see README)
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    return on_connect


def _sqlite_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


class Checkpointer:
    """Copies the SQLite write-ahead log into the database from its own thread, when writes
    pause.

    By default SQLite checkpoints inside whichever commit crosses 1,000 WAL pages, and with
    synchronous=FULL that commit then waits for the database file's fsync: one webhook batch
    in a hundred answered 200-300 ms late. A checkpoint here runs once writes have paused
    for `idle` seconds (a busy contact center has many such pauses), or after `longest`
    seconds of unbroken writing, so the WAL stays bounded; PASSIVE never blocks readers or
    writers. `PRAGMA data_version` tells this connection when another one has committed.
    """

    def __init__(self, path: str, tick: float = 0.05, idle: float = 0.2,
                 longest: float = 30.0) -> None:
        self.path = path
        self.tick, self.idle, self.longest = tick, idle, longest
        self.checkpoints = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                               check_same_thread=False)
        version = None
        last_write = last_checkpoint = time.monotonic()
        dirty = False
        try:
            while not self._stop.wait(self.tick):
                try:
                    now = time.monotonic()
                    current = conn.execute("PRAGMA data_version").fetchone()[0]
                    if current != version:
                        version, last_write, dirty = current, now, True
                    if dirty and (now - last_write >= self.idle
                                  or now - last_checkpoint >= self.longest):
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                        dirty, last_checkpoint = False, time.monotonic()
                        self.checkpoints += 1
                except sqlite3.Error as exc:  # e.g. the file was removed in a test
                    log.debug("checkpoint skipped: %s", exc)
        finally:
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


class Database:
    def __init__(self, url: str, *, pooled: bool = True, sqlite_synchronous: str = "full",
                 echo: bool = False) -> None:
        self.url = normalize_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        options: dict[str, Any] = {"echo": echo, "json_serializer": _json_dumps,
                                   "json_deserializer": orjson.loads}
        if not pooled:
            options["poolclass"] = NullPool  # short-lived CLI commands: hold no files open
        elif not self.is_sqlite:
            options.update(pool_pre_ping=True, pool_size=10, max_overflow=10)
        if self.is_sqlite:
            database = make_url(self.url).database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(self.url, **options)
        self.checkpointer: Checkpointer | None = None
        if self.is_sqlite:
            database = make_url(self.url).database
            background = pooled and bool(database) and database != ":memory:"
            event.listen(self.engine, "connect",
                         _sqlite_pragmas(sqlite_synchronous, autocheckpoint=not background))
            event.listen(self.engine, "begin", _sqlite_begin)
            if background:
                assert database is not None
                self.checkpointer = Checkpointer(database)

    @classmethod
    def unpooled(cls, url: str, sqlite_synchronous: str = "full") -> Database:
        return cls(url, pooled=False, sqlite_synchronous=sqlite_synchronous)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            if self.is_sqlite:
                conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def scrub_free_space(self, tables: Sequence[str], full: bool = False) -> str:
        """After an erasure: make deleted rows unreadable in the database's files.

        SQLite zeroes freed space as it goes (`secure_delete`); what remains is the
        write-ahead log, which still holds the pages as they were before: a TRUNCATE
        checkpoint copies it into the database and empties it (it waits for readers).
        PostgreSQL keeps dead row versions until VACUUM removes them; `full` rewrites the
        tables (an exclusive lock while it runs) so no old version survives in their files.
        Returns what was done, for the operator."""
        if self.is_sqlite:
            with self.engine.connect() as conn:
                busy, frames, copied = conn.exec_driver_sql(
                    "PRAGMA wal_checkpoint(TRUNCATE)").one()
            if busy:
                return (f"write-ahead log not emptied ({copied} of {frames} pages copied: "
                        "readers were busy); run `switchboard privacy scrub` again")
            return "write-ahead log checkpointed and emptied; freed pages were zeroed"
        command = "VACUUM (FULL, ANALYZE)" if full else "VACUUM (ANALYZE)"
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in tables:
                conn.exec_driver_sql(f'{command} "{table}"')
        return f"{command} on {', '.join(tables)}"

    def dispose(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
            self.checkpointer = None
        self.engine.dispose()
