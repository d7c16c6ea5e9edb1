"""`switchboard import suppliers|orders`: parse the whole file, then write it in one go."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from tickets import catalog
from tickets.catalog import ImportFailed
from tickets.database import Database
from tickets.schema import suppliers


class ImportError_(click.ClickException):
    exit_code = 2


def _fail(path: Path, exc: ImportFailed) -> ImportError_:
    shown = exc.problems[:50]
    more = f"\n… and {len(exc.problems) - 50} more" if len(exc.problems) > 50 else ""
    return ImportError_(f"{path}: nothing imported, {len(exc.problems)} problem(s):\n  "
                        + "\n  ".join(shown) + more)


def import_suppliers(db: Database, path: Path, now: datetime) -> None:
    try:
        rows = catalog.parse_suppliers(path)
        with db.write() as conn:
            result = catalog.write_suppliers(conn, rows, now)
    except ImportFailed as exc:
        raise _fail(path, exc) from None
    click.echo(f"suppliers: {result.rows} rows, {result.inserted} new, {result.updated} updated")


def import_orders(db: Database, path: Path, now: datetime) -> None:
    from sqlalchemy import select

    try:
        with db.read() as conn:
            known = list(conn.execute(select(suppliers.c.id)).scalars())
        rows = catalog.parse_orders(path, known)
        with db.write() as conn:
            result = catalog.write_orders(conn, rows, now)
    except ImportFailed as exc:
        raise _fail(path, exc) from None
    click.echo(f"orders: {result.rows} rows, {result.inserted} new, {result.updated} updated")
