"""Statements on the pipeline's hot path, run straight on the DB-API cursor.

SQLAlchemy Core spends ~100 µs of Python on one 20-column INSERT, and ~100 µs on a SELECT
with an expanding IN, where SQLite itself needs ~10 µs; at a dozen statements per message
that alone capped the pipeline below its target. So the few hot statements keep SQLAlchemy
for what it is good at — the SQL is compiled by SQLAlchemy for the connection's dialect,
every parameter goes through its type's own `bind_processor` and every result column
through its `result_processor` (public API), so UTC datetimes, JSON and booleans are exactly
what Core would store and return — and only the execution goes to the cursor, on the same
connection, inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Dialect, Select, Table, bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.types import TypeEngine

from tickets.schema import UTCDateTime

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: list[str]
    binds: list[Processor]
    positional: bool
    literal: dict[str, Any]
    results: list[Processor]

    def parameters(self, params: Mapping[str, Any]) -> Any:
        # called for every row of every hot statement: one pass, no intermediate lists
        literal = self.literal
        values = []
        for name, process in zip(self.names, self.binds, strict=False):  # built together
            value = params[name] if name in params else literal.get(name)
            values.append(value if process is None or value is None else process(value))
        return tuple(values) if self.positional else dict(zip(self.names, values, strict=True))


_TEXTS: dict[datetime, str] = {}  # a batch writes its one `now` into many rows


def _sqlite_utc_text(value: datetime) -> str:
    """An aware datetime as SQLAlchemy's SQLite DATETIME stores it (naive UTC,
    `YYYY-MM-DD HH:MM:SS.ffffff`): the same text as through Core, so stored times compare
    as text whichever path wrote them."""
    text = _TEXTS.get(value)
    if text is None:
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware UTC time")
        if len(_TEXTS) > 4096:
            _TEXTS.clear()
        text = _TEXTS[value] = value.astimezone(UTC).replace(tzinfo=None).isoformat(
            " ", "microseconds")
    return text


def _binder(type_: TypeEngine[Any], dialect: Dialect) -> Processor:
    """What Core does to a parameter of this type on this dialect: the type's own processor
    and its dialect implementation's (SQLite's DATETIME turns datetimes into text; without
    it sqlite3's own adapter would write them differently)."""
    if isinstance(type_, UTCDateTime) and dialect.name == "sqlite":
        return _sqlite_utc_text
    return type_.dialect_impl(dialect).bind_processor(dialect)


def _cursor(conn: Connection) -> Any:
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    return dbapi.cursor()


class FastInsert:
    """INSERT of whole rows; `returning_id` gives back the new primary key. With
    `skip_conflicts_on` (a unique key's columns) a row already there is skipped, and `one`
    says so by returning None (the id always comes back through RETURNING then)."""

    def __init__(self, table: Table, returning_id: bool = False,
                 skip_conflicts_on: tuple[str, ...] = ()) -> None:
        self.table = table
        self.returning_id = returning_id or bool(skip_conflicts_on)
        self.skip_conflicts_on = skip_conflicts_on
        self._by_dialect: dict[tuple[str, bool], _Compiled] = {}

    def _compiled(self, dialect: Dialect, returning: bool = True) -> _Compiled:
        compiled = self._by_dialect.get((dialect.name, returning))
        if compiled is None:
            columns = [c.name for c in self.table.columns
                       if not (c.primary_key and c.autoincrement in (True, "auto"))]
            stmt: Any = self.table.insert().values({c: bindparam(c) for c in columns})
            if returning and self.skip_conflicts_on:
                dialect_insert = (pg_insert if dialect.name == "postgresql"
                                  else sqlite_insert)
                stmt = dialect_insert(self.table).values(
                    {c: bindparam(c) for c in columns}).on_conflict_do_nothing(
                    index_elements=list(self.skip_conflicts_on)).returning(self.table.c.id)
            elif returning and self.returning_id and dialect.name != "sqlite":
                stmt = stmt.returning(self.table.c.id)
            sql = stmt.compile(dialect=dialect)
            names = list(sql.positiontup) if sql.positiontup is not None else columns
            defaults = {c.name: getattr(c.default, "arg", None) for c in self.table.columns
                        if c.default is not None and getattr(c.default, "is_scalar", False)}
            compiled = _Compiled(
                sql.string, names,
                [_binder(self.table.c[n].type, dialect) for n in names],
                sql.positiontup is not None, defaults, [])
            self._by_dialect[(dialect.name, returning)] = compiled
        return compiled

    def one(self, conn: Connection, row: Mapping[str, Any]) -> int | None:
        """Insert one row; its new id when `returning_id`."""
        compiled = self._compiled(conn.dialect)
        cursor = _cursor(conn)
        try:
            cursor.execute(compiled.sql, compiled.parameters(row))
            if not self.returning_id:
                return None
            if conn.dialect.name == "sqlite" and not self.skip_conflicts_on:
                return int(cursor.lastrowid)
            returned = cursor.fetchone()
            return None if returned is None else int(returned[0])
        finally:
            cursor.close()

    def many_ids(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[int]:
        """Insert rows and return their new ids in the order of `rows`: one statement on
        PostgreSQL (SQLAlchemy's insertmanyvalues, ordered by parameter), row by row on
        SQLite (in-process: nothing to save)."""
        if conn.dialect.name == "sqlite" or not rows:
            return [int(self.one(conn, r) or 0) for r in rows]
        stmt = self.table.insert().returning(self.table.c.id, sort_by_parameter_order=True)
        return [int(i) for i in conn.execute(stmt, list(rows)).scalars()]

    def many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert rows whose ids nobody needs: one executemany (pipelined by psycopg)."""
        if not rows:
            return
        if self.skip_conflicts_on and conn.dialect.name != "sqlite":
            for row in rows:  # ON CONFLICT ... RETURNING: row by row
                self.one(conn, row)
            return
        compiled = self._compiled(conn.dialect, returning=bool(self.skip_conflicts_on))
        cursor = _cursor(conn)
        try:
            cursor.executemany(compiled.sql, [compiled.parameters(r) for r in rows])
        finally:
            cursor.close()


class FastSelect:
    """A SELECT with scalar bound parameters (no expanding IN); rows come back as plain
    tuples in the order of the selected columns. Literals in the statement keep their
    values."""

    def __init__(self, stmt: Select[Any]) -> None:
        self.stmt = stmt
        self._by_dialect: dict[str, _Compiled] = {}

    def _compiled(self, dialect: Dialect) -> _Compiled:
        compiled = self._by_dialect.get(dialect.name)
        if compiled is None:
            sql = self.stmt.compile(dialect=dialect)
            if "POSTCOMPILE" in sql.string:
                raise ValueError("FastSelect takes no expanding IN; use Connection.execute")
            names = list(sql.positiontup) if sql.positiontup is not None else list(sql.binds)
            compiled = _Compiled(
                sql.string, names,
                [_binder(sql.binds[n].type, dialect) for n in names],
                sql.positiontup is not None,
                {n: b.value for n, b in sql.binds.items() if not b.required},
                [c.type.result_processor(dialect, None) for c in self.stmt.selected_columns])
            self._by_dialect[dialect.name] = compiled
        return compiled

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        compiled = self._compiled(conn.dialect)
        cursor = _cursor(conn)
        try:
            cursor.execute(compiled.sql, compiled.parameters(params))
            rows = cursor.fetchall()
        finally:
            cursor.close()
        results = compiled.results
        if not any(results):
            return [tuple(r) for r in rows]
        return [tuple(p(v) if p is not None else v for p, v in zip(results, r, strict=True))
                for r in rows]

    def first(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        rows = self.all(conn, params)
        return rows[0] if rows else None

    def scalar(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """The first column of the first row, None when there is none."""
        row = self.first(conn, params)
        return row[0] if row is not None else None


class FastUpdate:
    """UPDATE of some columns of one row by primary key; the statement is compiled once per
    set of columns (a follow-up touches the same few columns again and again)."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self._by_key: dict[tuple[str, frozenset[str], frozenset[str]], _Compiled] = {}

    def _compiled(self, dialect: Dialect, columns: frozenset[str],
                  increments: frozenset[str]) -> _Compiled:
        key = (dialect.name, columns, increments)
        compiled = self._by_key.get(key)
        if compiled is None:
            ordered = sorted(columns)
            sets: dict[str, Any] = {c: bindparam(c) for c in ordered}
            sets.update({c: self.table.c[c] + bindparam(f"_inc_{c}") for c in increments})
            stmt = (self.table.update().where(self.table.c.id == bindparam("_row_id"))
                    .values(sets))
            sql = stmt.compile(dialect=dialect)
            names = list(sql.positiontup) if sql.positiontup is not None else list(sql.binds)
            compiled = _Compiled(
                sql.string, names,
                [_binder(sql.binds[n].type, dialect) for n in names],
                sql.positiontup is not None, {}, [])
            self._by_key[key] = compiled
        return compiled

    def row(self, conn: Connection, row_id: int, values: Mapping[str, Any],
            increments: Mapping[str, int] | None = None) -> int:
        """Set `values` and add `increments` (column → amount); rows changed (0 or 1)."""
        increments = increments or {}
        compiled = self._compiled(conn.dialect, frozenset(values), frozenset(increments))
        params = {**values, "_row_id": row_id,
                  **{f"_inc_{c}": n for c, n in increments.items()}}
        cursor = _cursor(conn)
        try:
            cursor.execute(compiled.sql, compiled.parameters(params))
            return int(cursor.rowcount)
        finally:
            cursor.close()
