"""The work behind `switchboard classify`, `ingest` and `tickets show`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import click
import orjson

from router import route
from switchboard.classification import (
    build_classifier,
    gather_context,
    routing_table,
    sender_supplier,
    supplier_entries,
)
from switchboard.intake import BadMessage, MessageIn, parse_message
from switchboard.pipeline import Pipeline
from switchboard.secrets import load_secret
from switchboard.settings import Settings
from switchboard.timefmt import local_iso, localize
from tickets import customers, inbox, queries
from tickets.catalog import orders_for_contacts
from tickets.clock import SystemClock
from tickets.database import Database
from tickets.identities import IdentityKind, sender_identity
from tickets.messages import InboundMessage
from tickets.refs import parse_ref


def classify_lines(settings: Settings, db: Database, lines: IO[str], out: IO[str]) -> int:
    """Classify each JSON line; a bad line yields `{"id", "error"}` and the rest go on."""
    failures = 0
    table = routing_table(settings)
    limit = settings.tickets.max_text_chars
    with db.read() as conn:
        classifier = build_classifier(settings, supplier_entries(conn))
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                message = parse_message(line, limit)
            except BadMessage as exc:
                failures += 1
                out.write(orjson.dumps({"line": number, "id": _id_of(line),
                                        "error": str(exc)}).decode() + "\n")
                continue
            kind, value = sender_identity(message.channel, message.sender)
            supplier = sender_supplier(classifier, kind, value)
            phones, emails = _contacts(conn, kind, value)
            prepared = classifier.prepare(message.text, message.subject)
            bought = orders_for_contacts(conn, phones, emails)
            context = gather_context(conn, prepared, message.channel, supplier, bought)
            result = classifier.classify(prepared, context)
            department = route(table, result.category, result.topic, result.supplier_id,
                               result.department, result.department_rule)
            out.write(orjson.dumps({
                "id": message.id, "category": result.category, "topic": result.topic,
                "supplier_id": result.supplier_id, "department": department.department,
                "confidence": result.confidence, "rules": list(result.rules),
            }).decode() + "\n")
    return failures


def _contacts(conn: Any, kind: str, value: str) -> tuple[list[str], list[str]]:
    """The sender's phones and emails: its own, plus those of the customer it is known as."""
    phones = [value] if kind == IdentityKind.PHONE else []
    emails = [value] if kind == IdentityKind.EMAIL else []
    customer_id = customers.find_by_identity(conn, kind, value)
    if customer_id is not None:
        known_phones, known_emails = customers.contacts_of(conn, customer_id)
        phones += [p for p in known_phones if p not in phones]
        emails += [e for e in known_emails if e not in emails]
    return phones, emails


def _id_of(line: str) -> Any:
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return data.get("id") if isinstance(data, dict) else None


def read_messages(path: Path, limit: int) -> list[MessageIn]:
    """Every line of the file, or a Failure listing every bad line (nothing is ingested)."""
    problems: list[str] = []
    messages: list[MessageIn] = []
    seen: dict[tuple[str, str], int] = {}
    raw = path.read_bytes()
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            message = parse_message(line, limit)
        except BadMessage as exc:
            problems.append(f"line {number}: {exc}")
            continue
        key = message.dedup_key
        if not key:
            problems.append(f"line {number}: id is required (it is the dedup key)")
            continue
        if (message.channel, key) in seen:
            problems.append(f"line {number}: {message.channel} id {key} repeats line "
                            f"{seen[(message.channel, key)]}")
            continue
        seen[(message.channel, key)] = number
        messages.append(message)
    if problems:
        raise click.ClickException(f"{path}: nothing ingested, {len(problems)} bad line(s):\n  "
                                   + "\n  ".join(problems[:50]))
    return messages


def ingest_file(settings: Settings, db: Database, path: Path,
                echo: Callable[[str], None]) -> None:
    clock = SystemClock()
    messages = read_messages(path, settings.tickets.max_text_chars)
    now = clock.now()
    inbound = [m.to_inbound(now) for m in messages]
    queued = 0
    with db.write() as conn:
        for start in range(0, len(inbound), 1000):
            queued += inbox.put_many(conn, inbound[start:start + 1000], now)
    pipeline = Pipeline(settings, db, clock, secret=load_secret(settings))
    counts: dict[str, int] = {}
    while True:
        outcomes = pipeline.run_batch()
        if not outcomes or all(o.action == "failed" for o in outcomes):
            break
        for o in outcomes:
            counts[o.action] = counts.get(o.action, 0) + 1
            detail = (f"{o.ref} {o.category}{'/' + o.topic if o.topic else ''} "
                      f"supplier={o.supplier_id or '-'} department={o.department}"
                      if o.ref else (o.error or ""))
            echo(f"{o.channel} {o.external_id}: {o.action} {detail}".rstrip())
    already = len(inbound) - queued
    summary = ", ".join(f"{n} {a}" for a, n in sorted(counts.items())) or "nothing to do"
    echo(f"{len(inbound)} lines: {summary}"
         + (f"; {already} already waiting in the inbox" if already else ""))


def ingest_eml(settings: Settings, db: Database, path: Path, echo: Callable[[str], None],
               *, quiet: bool = False) -> dict[str, int]:
    """A folder of .eml files or an mbox, through the email connector and the pipeline."""
    from connectors.email.intake import MailIntake
    from connectors.email.sources import raw_messages
    from switchboard.email_wiring import make_intake

    clock = SystemClock()
    pending: list[InboundMessage] = []

    def collect(message: InboundMessage) -> bool:
        pending.append(message)
        return True

    base = make_intake(settings, db, clock)
    intake = MailIntake(base.mailboxes, base.raw_store, base.attachments, collect, clock)
    read = failed = 0
    for origin, raw in raw_messages(path):
        read += 1
        try:
            intake.take(raw)
        except Exception as exc:  # one unreadable file must not stop a migration
            failed += 1
            echo(f"{origin}: not taken: {type(exc).__name__}: {exc}")
    now = clock.now()
    queued = 0
    with db.write() as conn:
        for start in range(0, len(pending), 1000):
            queued += inbox.put_many(conn, pending[start:start + 1000], now)
    pipeline = Pipeline(settings, db, clock, secret=load_secret(settings))
    counts: dict[str, int] = {}
    while outcomes := pipeline.run_batch():
        for o in outcomes:
            counts[o.action] = counts.get(o.action, 0) + 1
            if not quiet:
                echo(f"{o.external_id}: {o.action} {o.ref or o.error or ''}".rstrip())
        if all(o.action in ("failed", "dead") for o in outcomes):
            break
    summary = ", ".join(f"{n} {a}" for a, n in sorted(counts.items())) or "nothing to do"
    echo(f"{read} messages read from {path}: {summary}"
         + (f"; {failed} unreadable" if failed else "")
         + (f"; {len(pending) - queued} already waiting" if len(pending) > queued else ""))
    return counts


def show_ticket(settings: Settings, db: Database, ref: str, as_json: bool,
                echo: Callable[[str], None]) -> None:
    ticket_id = parse_ref(ref)
    if ticket_id is None:
        raise click.ClickException(f"{ref!r} is not a ticket reference")
    with db.read() as conn:
        ticket = queries.get_ticket(conn, settings.tickets.ref_prefix, ticket_id)
    if ticket is None:
        raise click.ClickException(f"no ticket {ref}")
    zone = settings.zone
    if as_json:
        echo(orjson.dumps(localize(ticket, zone), option=orjson.OPT_INDENT_2).decode())
        return
    kind = ticket["category"] + (f"/{ticket['topic']}" if ticket["topic"] else "")
    echo(f"{ticket['ref']}  {ticket['status']}  {kind}  department={ticket['department']}  "
         f"supplier={ticket['supplier_id'] or '-'}  priority={ticket['priority']}  "
         f"sla={ticket['sla_level']}")
    echo(f"subject: {ticket['subject'] or ''}")
    echo(f"customer #{ticket['customer_id']}  via {ticket['channel']}  opened "
         f"{local_iso(ticket['created_at'], zone)}")
    echo("")
    for m in ticket["messages"]:
        echo(f"[{local_iso(m['created_at'], zone)}] {m['direction']} {m['channel']} "
             f"{m['author']}:")
        for line in m["text"].splitlines() or [""]:
            echo(f"    {line}")
    echo("")
    echo("journal:")
    for j in ticket["journal"]:
        echo(f"  {local_iso(j['at'], zone)}  {j['actor']:<12} {j['action']:<15} {j['reason']}")
