"""`switchboard privacy`: what the personal-data law asks an operator to show and do:
who looked at a person's data (`audit`), what is due for anonymisation and what was done
(`report`), the retention sweep run now (`sweep`), and the database's files scrubbed of
deleted rows (`scrub`)."""

from __future__ import annotations

import json

import click

from switchboard.desk.privacy import TOUCHED
from switchboard.jobs import retention
from tickets import personal_data


@click.group("privacy")
def privacy_group() -> None:
    """Personal data: access log, retention, scrubbing."""


@privacy_group.command("audit")
@click.option("--customer", "customer_id", type=int, required=True,
              help="the customer's number (merged customers are included)")
@click.pass_context
def audit(ctx: click.Context, customer_id: int) -> None:
    """Every recorded read, export and erasure of the person's data, oldest first."""
    from switchboard.cli.main import _database, _settings

    settings, db = _settings(ctx), _database(ctx)
    with db.read() as conn:
        rows = personal_data.access_log(conn, customer_id)
    if not rows:
        click.echo(f"nothing recorded for customer #{customer_id}")
    for row in rows:
        when = row["at"].astimezone(settings.zone).strftime("%Y-%m-%d %H:%M:%S")
        detail = json.dumps(row["detail"], ensure_ascii=False) if row["detail"] else ""
        click.echo(f"{when}  {row['action']:<9} via {row['via']:<9} by {row['actor']}  "
                   f"#{row['customer_id']} {detail}".rstrip())


@privacy_group.command("report")
@click.option("--days", type=click.IntRange(1, 3660), default=30, show_default=True,
              help="what was done over this many days")
@click.option("--json", "as_json", is_flag=True, help="one JSON document")
@click.pass_context
def report(ctx: click.Context, days: int, as_json: bool) -> None:
    """What the retention policy makes due now, data requests open on the privacy desk,
    and the erasures and anonymisations done."""
    from switchboard.cli.main import _database, _now, _settings

    settings, db, now = _settings(ctx), _database(ctx), _now(ctx)
    with db.read() as conn:
        found = retention.report(conn, settings, now, days)
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False, default=str, indent=2))
        return
    click.echo(retention.describe(found, settings.zone))


@privacy_group.command("sweep")
@click.pass_context
def sweep(ctx: click.Context) -> None:
    """Anonymise what the retention policy makes due now (the server does it on its own
    every `privacy.retention.every`)."""
    from switchboard.cli.main import _database, _now, _settings

    settings, db = _settings(ctx), _database(ctx)
    done = retention.sweep(db, settings, _now(ctx), actor="cli")
    click.echo(json.dumps(done, ensure_ascii=False))


@privacy_group.command("scrub")
@click.option("--full", is_flag=True, help="PostgreSQL: VACUUM FULL (locks the tables)")
@click.pass_context
def scrub(ctx: click.Context, full: bool) -> None:
    """Make deleted rows unreadable in the database's files (SQLite: empty the write-ahead
    log; PostgreSQL: VACUUM). An erasure does it itself; run it again when it says the
    log could not be emptied."""
    from switchboard.cli.main import _database

    click.echo(_database(ctx).scrub_free_space(TOUCHED, full=full))
