"""`switchboard customers export`: everything held about one person, as one JSON document
(a data-subject access request under Vietnam's Personal Data Protection Law)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from sqlalchemy import Connection

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
    text = json.dumps(document, ensure_ascii=False, indent=2)
    if out is None:
        click.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"customer #{document['customer']['id']}: {len(document['tickets'])} "
                   f"ticket(s) written to {out}", err=True)


def _find(conn: Connection, phone: str | None, email: str | None) -> int | None:
    """The customer an identity belongs to (the export follows merges from there)."""
    if phone is not None:
        value = normalize_phone(phone)
        return None if value is None else find_by_identity(conn, "phone", value)
    value = normalize_email(email or "")
    return None if value is None else find_by_identity(conn, "email", value)
