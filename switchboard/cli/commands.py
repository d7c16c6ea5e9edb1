"""The work behind `switchboard classify`, `ingest` and `tickets show`."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import click
import orjson

from connectors.files import read_bytes
from router import route
from switchboard.intake.message import BadMessage, MessageIn, parse_message
from switchboard.pipeline.runner import Pipeline
from switchboard.secrets import load_secret
from switchboard.settings import Settings
from switchboard.ticket_rules.classification import (
    build_classifier,
    gather_context,
    routing_table,
    sender_supplier,
    supplier_entries,
)
from switchboard.timefmt import local_iso, localize
from tickets import customers, inbox, queries
from tickets.catalog import orders_for_contacts
from tickets.clock import SystemClock
from tickets.database import Database
from tickets.identities import IdentityKind, sender_identity
from tickets.messages import InboundMessage
from tickets.refs import parse_ref


def message_lines(lines: IO[str], limit: int, out: IO[str], bad: list[int]
                  ) -> Iterator[MessageIn]:
    """The message of each JSON line; a bad line is answered `{"line", "id", "error"}` on
    `out` (its number added to `bad`) and the rest go on (`classify`, `answer`)."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield parse_message(line, limit)
        except BadMessage as exc:
            bad.append(number)
            out.write(orjson.dumps({"line": number, "id": id_of(line),
                                    "error": str(exc)}).decode() + "\n")


def classify_lines(settings: Settings, db: Database, lines: IO[str], out: IO[str]) -> int:
    """Classify each JSON line; a bad line yields `{"id", "error"}` and the rest go on."""
    table = routing_table(settings)
    limit = settings.tickets.max_text_chars
    with db.read() as conn:
        classifier = build_classifier(settings, supplier_entries(conn))
        bad: list[int] = []
        for message in message_lines(lines, limit, out, bad):
            kind, value = sender_identity(message.channel, message.sender)
            supplier = sender_supplier(classifier, kind, value)
            phones, emails = contacts_of(conn, kind, value)
            prepared = classifier.prepare(message.text, message.subject)
            bought = orders_for_contacts(conn, phones, emails)
            context = gather_context(conn, prepared, message.channel, supplier, bought)
            result = classifier.classify(prepared, context)
            department = route(table, result.category, result.topic, result.supplier_id,
                               result.department, result.department_rule)
            answer: dict[str, Any] = {
                "id": message.id, "category": result.category, "topic": result.topic,
                "supplier_id": result.supplier_id, "department": department.department,
                "confidence": result.confidence, "rules": list(result.rules)}
            if result.model is not None:
                answer["model"] = {"category": result.model.category,
                                 "probability": result.model.probability,
                                 "terms": list(result.model.terms)}
            out.write(orjson.dumps(answer).decode() + "\n")
    return len(bad)


def contacts_of(conn: Any, kind: str, value: str) -> tuple[list[str], list[str]]:
    """The sender's phones and emails: its own, plus those of the customer it is known as."""
    phones = [value] if kind == IdentityKind.PHONE else []
    emails = [value] if kind == IdentityKind.EMAIL else []
    customer_id = customers.find_by_identity(conn, kind, value)
    if customer_id is not None:
        known_phones, known_emails = customers.contacts_of(conn, customer_id)
        phones += [p for p in known_phones if p not in phones]
        emails += [e for e in known_emails if e not in emails]
    return phones, emails


def id_of(line: str) -> Any:
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


_WORKER_INTAKE: Any = None


def _start_parser(settings: Settings) -> None:
    """In each parsing process: an intake whose inbox is the caller (messages go back)."""
    global _WORKER_INTAKE
    from connectors.email.intake import MailIntake

    # the one pipeline process is the critical path; the parsers fill the CPU it leaves
    with contextlib.suppress(OSError):
        os.nice(10)
    from switchboard.wiring.email import make_intake

    base = make_intake(settings, Database.unpooled("sqlite://"), SystemClock())
    for store in (base.raw_store, base.attachments):
        store.fsync = False  # one sync for the whole import, before the inbox commit
    _WORKER_INTAKE = MailIntake(base.mailboxes, base.raw_store, base.attachments,
                                lambda _message: True, SystemClock())


def _parse_file(item: tuple[str, str]) -> tuple[str, dict[str, Any] | None, str | None]:
    origin, location = item
    try:
        raw = read_bytes(location) if location else b""
        return origin, _WORKER_INTAKE.take(raw).message.to_dict(), None
    except Exception as exc:  # one unreadable file must not stop a migration
        return origin, None, f"{type(exc).__name__}: {exc}"


def ingest_eml(settings: Settings, db: Database, path: Path, echo: Callable[[str], None],
               *, quiet: bool = False, workers: int | None = None) -> dict[str, int]:
    """A folder of .eml files or an mbox, through the email connector and the pipeline.
    Parsing and storing the files runs in one process per core while this one feeds what
    they return to the pipeline (the one writer), five hundred at a time.
    Old mail is history: its senders get no acknowledgement now."""
    from collections.abc import Iterable
    from concurrent.futures import ProcessPoolExecutor

    from switchboard.bootstrap import make_queue

    clock = SystemClock()
    pipeline = Pipeline(settings, db, clock, secret=load_secret(settings), acknowledge=False)
    pipeline.queue = make_queue(settings)  # where what fails waits for the worker's retries
    counts: dict[str, int] = {}
    failed = taken = 0

    def drain(batch: list[InboundMessage]) -> None:
        # The files are the durable copy, so the messages skip the inbox; the raw mail and
        # attachments the tickets will point to are on disk before the tickets commit.
        os.sync()
        for o in pipeline.run_messages(batch):
            counts[o.action] = counts.get(o.action, 0) + 1
            if not quiet:
                echo(f"{o.external_id}: {o.action} {o.ref or o.error or ''}".rstrip())

    def consume(results: Iterable[tuple[str, dict[str, Any] | None, str | None]]) -> None:
        nonlocal failed, taken
        batch: list[InboundMessage] = []
        for origin, data, error in results:
            if data is None:
                failed += 1
                echo(f"{origin}: not taken: {error}")
                continue
            batch.append(InboundMessage.from_dict(data))
            taken += 1
            # a small first batch: the pipeline starts while the parsers are still warming
            if len(batch) >= (100 if taken <= 100 else 500):
                drain(batch)
                batch = []
        drain(batch)

    items = _mail_files(settings, path)
    workers = workers or min(os.cpu_count() or 1, 4)
    if workers > 1 and len(items) >= 200:
        with ProcessPoolExecutor(workers, initializer=_start_parser,
                                 initargs=(settings,)) as pool:
            results = pool.map(_parse_file, items, chunksize=128)
            pipeline.warm_up()  # while the first files are parsed
            consume(results)
    else:
        _start_parser(settings)
        consume(_parse_file(item) for item in items)
    echo(_eml_summary(path, len(items), counts, failed))
    return counts


def _mail_files(settings: Settings, path: Path) -> list[tuple[str, str]]:
    """(origin, file) for each message: the parsers read files by name, so an mbox is split
    into a spool of files first and each worker process can take its share."""
    from connectors.email.sources import raw_messages

    if path.is_dir():
        return [(str(f), str(f)) for f in sorted(path.rglob("*.eml"))]
    spool = Path(settings.email.raw_dir) / "spool"
    spool.mkdir(parents=True, exist_ok=True)
    items: list[tuple[str, str]] = []
    for number, (origin, raw) in enumerate(raw_messages(path)):
        spooled = spool / f"{number:08d}.eml"
        spooled.write_bytes(raw)
        items.append((origin, str(spooled)))
    return items


def _eml_summary(path: Path, read: int, counts: Mapping[str, int], unreadable: int) -> str:
    """The closing line an operator checks a migration by: what became of every message,
    and that the failed ones are not lost but wait for the worker's retries."""
    summary = ", ".join(f"{n} {a}" for a, n in sorted(counts.items())) or "nothing to do"
    retry = counts.get("failed", 0)
    return (f"{read} messages read from {path}: {summary}"
            + (f"; {unreadable} unreadable" if unreadable else "")
            + (f"; the {retry} failed wait in the inbox for the worker's retries"
               if retry else ""))


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
        delivery = ""
        if m["delivery"]:
            error = f": {m['delivery_error']}" if m["delivery_error"] else ""
            delivery = f" ({m['delivery']}{error})"
        attached = f" [{len(m['attachments'])} attachment(s)]" if m["attachments"] else ""
        echo(f"[{local_iso(m['created_at'], zone)}] {m['direction']} {m['channel']} "
             f"{m['author']}{delivery}{attached}:")
        for line in m["text"].splitlines() or [""]:
            echo(f"    {line}")
    echo("")
    echo("journal:")
    for j in ticket["journal"]:
        echo(f"  {local_iso(j['at'], zone)}  {j['actor']:<12} {j['action']:<15} {j['reason']}")
