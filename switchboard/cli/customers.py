"""`switchboard customers export` and `erase`: a person's rights under Vietnam's Personal
Data Protection Law (No. 91/2025/QH15): to receive everything held about them, as one JSON
document, and to have it deleted. Both are recorded in the personal-data log."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import click
from sqlalchemy import Connection

from switchboard.desk import privacy
from tickets import personal_data
from tickets.customers import find_by_identity
from tickets.identities import normalize_email, normalize_phone


@click.group()
def customers() -> None:
    """Customers' personal data."""


@customers.command("export")
@click.option("--phone", help="the person's phone number, in any spelling")
@click.option("--email", help="the person's email address")
@click.option("--id", "customer_id", type=int, help="the customer's number")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="write the document here (default: standard output)")
@click.pass_context
def export(ctx: click.Context, phone: str | None, email: str | None, customer_id: int | None,
           out: Path | None) -> None:
    """One JSON document: the customer and merged customers, identities, orders, tickets with
    their messages, attachments' descriptions and journals, satisfaction answers, outbox."""
    from switchboard.cli.main import Failure, _database, _now, _settings

    if sum(x is not None for x in (phone, email, customer_id)) != 1:
        raise Failure("say whose data: exactly one of --phone, --email, --id")
    settings, db, now = _settings(ctx), _database(ctx), _now(ctx)
    with db.read() as conn:
        found = customer_id if customer_id is not None else _find(conn, phone, email)
        document = None if found is None else personal_data.export(
            conn, found, settings.tickets.ref_prefix, now)
    if document is None:
        raise Failure(f"no customer with {phone or email or f'id {customer_id}'}")
    privacy.record(db, _operator(), "cli", "export", document["customer"]["id"], now)
    text = json.dumps(document, ensure_ascii=False, indent=2)
    if out is None:
        click.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"customer #{document['customer']['id']}: {len(document['tickets'])} "
                   f"ticket(s) written to {out}", err=True)


@customers.command("erase")
@click.option("--phone", help="the person's phone number, in any spelling")
@click.option("--email", help="the person's email address")
@click.option("--id", "customer_id", type=int, help="the customer's number")
@click.option("--reason", required=True,
              help="why (kept in the tickets' journals and the log, without the data)")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@click.pass_context
def erase(ctx: click.Context, phone: str | None, email: str | None, customer_id: int | None,
          reason: str, yes: bool) -> None:
    """Erase the person's personal data everywhere Switchboard keeps it; their tickets stay
    as anonymous rows so that statistics do not change."""
    from switchboard.cli.main import Failure, _database, _now, _settings

    if sum(x is not None for x in (phone, email, customer_id)) != 1:
        raise Failure("say whose data: exactly one of --phone, --email, --id")
    if not reason.strip():
        raise Failure("say why: --reason")
    settings, db = _settings(ctx), _database(ctx)
    with db.read() as conn:
        found = customer_id if customer_id is not None else _find(conn, phone, email)
    if found is None:
        raise Failure(f"no customer with {phone or email or f'id {customer_id}'}")
    if not yes:
        click.confirm(f"Erase customer #{found}'s personal data? This cannot be undone",
                      abort=True, err=True)
    done = privacy.erase(db, settings, found, _operator(), "cli", reason.strip(), _now(ctx))
    if done is None:
        raise Failure(f"no customer #{found}")
    summary = done.erasure.summary()
    click.echo(json.dumps({"customer_id": done.erasure.customer_id, **summary,
                           "files_removed": done.files_removed,
                           "database": done.scrubbed}, ensure_ascii=False))


def _operator() -> str:
    """Who ran the command, for the log: the operating-system account."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _find(conn: Connection, phone: str | None, email: str | None) -> int | None:
    """The customer an identity belongs to (the export follows merges from there)."""
    if phone is not None:
        value = normalize_phone(phone)
        return None if value is None else find_by_identity(conn, "phone", value)
    value = normalize_email(email or "")
    return None if value is None else find_by_identity(conn, "email", value)
