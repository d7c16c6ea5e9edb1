"""`switchboard rules replay`: a dry run of candidate rules over past tickets.

A manager who edits the rules wants to know, before the change goes live, which tickets the
new rules would have classified or routed differently. For each ticket created in a period
this module takes the ticket's first inbound message (the one that opened it) and its
channel and sender, classifies it again with a classifier built from the candidate
settings — through the very steps the pipeline takes (`classifier.prepare`,
`sender_supplier`, `gather_context`, `classify`, then `router.route` over the candidate
routing table) — compares the result with what the rules decided when the ticket opened,
and tallies and tells the differences (the `Report` and its text and JSON lines).

What the rules decided then is read from the record, not recomputed (`replay_history` owns
that reading, and the customer's contacts as they were). Tickets a person reclassified are
reported apart ("a person decided"), with whether the new rules would now agree with that
person. The catalog of suppliers and orders is today's (it has no history); replaying the
current rules (no candidate file) therefore shows only such drift.

Read-only by construction: one read transaction, with SQLite's `query_only` pragma or
PostgreSQL's `READ ONLY` transaction mode, so even a bug here cannot write.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection
from sqlalchemy.engine import make_url

from router import Classifier, RoutingTable, route
from switchboard.insight.replay_history import Decision, Past, contacts_then, history
from switchboard.settings import ConfigError, Settings, load_settings
from switchboard.ticket_rules.classification import (
    build_classifier,
    gather_context,
    routing_table,
    sender_supplier,
    supplier_entries,
)
from tickets import migrate
from tickets.catalog import orders_for_contacts
from tickets.database import Database
from tickets.identities import sender_identity
from tickets.refs import format_ref

FIELDS = ("category", "topic", "department", "supplier")
_TEXT_CHARS = 80


class ReplayError(Exception):
    """A problem the person running the replay must fix (no database, outdated schema)."""


@dataclass(frozen=True, slots=True)
class Replayed:
    ref: str
    past: Past
    new: Decision
    rules: tuple[str, ...]
    confidence: float
    changes: tuple[str, ...]  # the FIELDS that differ from what the rules decided then


@dataclass
class Report:
    since: date
    until: date | None
    zone: str
    rules_file: str
    replayed: int = 0
    unchanged: int = 0
    changed: list[Replayed] = field(default_factory=list)
    by_person: list[Replayed] = field(default_factory=list)
    without_message: int = 0
    by_field: Counter[str] = field(default_factory=Counter)
    kinds: Counter[tuple[str, str]] = field(default_factory=Counter)
    departments: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, item: Replayed) -> None:
        self.replayed += 1
        if item.past.person is not None:
            self.by_person.append(item)
            return
        if not item.changes:
            self.unchanged += 1
            return
        self.changed.append(item)
        self.by_field.update(item.changes)
        old, new = item.past.decided, item.new
        if old.kind != new.kind:
            self.kinds[(old.kind, new.kind)] += 1
        if old.department != new.department:
            self.departments[(old.department, new.department)] += 1

    @property
    def person_agrees(self) -> tuple[int, int]:
        """(new rules, old rules): on how many hand-reclassified tickets each agrees with
        the person — the question a manager asks of a rule change meant to fix them."""
        new = sum(1 for r in self.by_person if r.new.kind == r.past.current.kind)
        old = sum(1 for r in self.by_person if r.past.decided.kind == r.past.current.kind)
        return new, old


def load_candidate(path: Path) -> Settings:
    """The candidate rules: a whole config file, validated like the running one."""
    try:
        return load_settings(path)
    except ConfigError as exc:
        raise ReplayError(str(exc)) from None


def period(since: date, until: date | None, zone: ZoneInfo) -> tuple[datetime, datetime | None]:
    """Calendar days in the configured zone (a manager thinks in local days) as a UTC
    half-open interval: from `since` 00:00 to the midnight after `until`."""
    if until is not None and until < since:
        raise ValueError(f"--until {until} is before --since {since}")
    start = datetime.combine(since, time(), zone)
    end = datetime.combine(until + timedelta(days=1), time(), zone) if until else None
    return start, end


def open_database(url: str) -> Database:
    """The database, without creating or migrating anything (`_database` in the CLI would
    create a missing schema, which is a write)."""
    parsed = make_url(url)
    file = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if file and file != ":memory:" and not Path(file).is_file():
        raise ReplayError(f"no database at {file}")
    try:
        db = Database.unpooled(url)
    except ValueError as exc:
        raise ReplayError(str(exc)) from None
    current, head = migrate.current(db), migrate.head()
    if current != head:
        db.dispose()
        raise ReplayError(f"the database is at schema {current or 'empty'}, this version "
                          f"needs {head}: run `switchboard migrate` first")
    return db


@contextmanager
def read_only(db: Database) -> Iterator[Connection]:
    """A read transaction the database itself refuses to write in."""
    with db.read() as conn:
        if not db.is_sqlite:
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            yield conn
            return
        conn.exec_driver_sql("PRAGMA query_only = ON")
        try:
            yield conn
        finally:  # a pooled connection goes back to writers
            conn.exec_driver_sql("PRAGMA query_only = OFF")


def replay(old: Settings, new: Settings, db: Database, since: date, until: date | None,
           rules_file: str) -> Report:
    """Replay `new`'s rules over the tickets opened from `since` to `until` (local days)."""
    start, end = period(since, until, old.zone)
    report = Report(since, until, old.timezone, rules_file)
    old_table, new_table = routing_table(old), routing_table(new)
    with read_only(db) as conn:
        classifier = build_classifier(new, supplier_entries(conn))
        for past in history(conn, start, end, old_table):
            if past is None:
                report.without_message += 1
                continue
            report.add(replay_one(conn, classifier, new_table, past,
                                  format_ref(old.tickets.ref_prefix, past.ticket_id)))
    return report


def replay_one(conn: Connection, classifier: Classifier, table: RoutingTable, past: Past,
               ref: str) -> Replayed:
    """The pipeline's classify-and-route steps for the opening message, nothing written."""
    kind, value = sender_identity(past.channel, past.sender)
    supplier = sender_supplier(classifier, kind, value, past.from_address)
    prepared = classifier.prepare(past.text, past.subject)
    phones, emails = contacts_then(conn, past.customer_id, past.created_at, kind, value)
    bought = orders_for_contacts(conn, phones, emails)
    context = gather_context(conn, prepared, past.channel, supplier, bought)
    result = classifier.classify(prepared, context)
    routed = route(table, result.category, result.topic, result.supplier_id,
                   result.department, result.department_rule)
    new = Decision(result.category, result.topic, result.supplier_id, routed.department,
                   routed.assigned_supplier_id)
    return Replayed(ref, past, new, result.rules, result.confidence,
                    differences(past.decided, new))


def differences(old: Decision, new: Decision) -> tuple[str, ...]:
    """The compared FIELDS that differ; `supplier` covers both the supplier the message is
    about and the supplier the ticket is handed to."""
    supplier = (old.supplier_id, old.assigned_supplier_id) != (new.supplier_id,
                                                              new.assigned_supplier_id)
    found = {"category": old.category != new.category, "topic": old.topic != new.topic,
             "department": old.department != new.department, "supplier": supplier}
    return tuple(name for name in FIELDS if found[name])


# ----------------------------------------------------------------------------- output


def summary(report: Report) -> dict[str, Any]:
    new, old = report.person_agrees
    return {
        "since": report.since.isoformat(),
        "until": report.until.isoformat() if report.until else None,
        "timezone": report.zone, "rules": report.rules_file,
        "replayed": report.replayed, "unchanged": report.unchanged,
        "changed": len(report.changed),
        "changed_by": {name: report.by_field[name] for name in FIELDS},
        "transitions": [{"from": a, "to": b, "count": n} for (a, b), n in _ranked(report.kinds)],
        "department_transitions": [{"from": a, "to": b, "count": n}
                                   for (a, b), n in _ranked(report.departments)],
        "person_decided": len(report.by_person),
        "person_agrees": {"new_rules": new, "old_rules": old},
        "without_inbound_message": report.without_message,
    }


def ticket_json(item: Replayed, kind: str) -> dict[str, Any]:
    past = item.past
    data: dict[str, Any] = {
        "type": kind, "ref": item.ref, "changes": list(item.changes),
        "old": past.decided.as_dict(), "old_from": "rules" if past.from_record else "ticket",
        "new": item.new.as_dict(), "rules": list(item.rules), "confidence": item.confidence,
        "text": excerpt(past.text),
    }
    if kind == "person":
        data["person"] = past.person
        data["ticket"] = past.current.as_dict()
    return data


def json_lines(report: Report, limit: int | None) -> Iterator[dict[str, Any]]:
    """A summary object, then one object per changed ticket, then the person-decided ones."""
    yield {"type": "summary", **summary(report)}
    for item in _limited(report.changed, limit):
        yield ticket_json(item, "changed")
    for item in _limited(report.by_person, limit):
        yield ticket_json(item, "person")


def text_lines(report: Report, limit: int | None) -> Iterator[str]:
    """The summary a manager reads first, then one line per changed ticket."""
    until = report.until.isoformat() if report.until else "today"
    yield (f"replayed {report.replayed} ticket(s) opened {report.since.isoformat()} to {until} "
           f"({report.zone}) with the rules of {report.rules_file}")
    counts = ", ".join(f"{name} {report.by_field[name]}" for name in FIELDS)
    yield f"  unchanged: {report.unchanged}"
    yield f"  changed: {len(report.changed)} ({counts})"
    new, old = report.person_agrees
    yield (f"  a person decided: {len(report.by_person)} (the new rules agree with the person "
           f"on {new}, the old rules did on {old})")
    if report.without_message:
        yield f"  without an inbound message (not replayed): {report.without_message}"
    for title, counter in (("category", report.kinds), ("department", report.departments)):
        if counter:
            yield f"{title} transitions:"
            yield from (f"  {a} → {b}: {n}" for (a, b), n in _ranked(counter))
    if report.changed:
        yield "changed tickets:"
        yield from _listed(report.changed, limit, changed_line)
    if report.by_person:
        yield "a person decided:"
        yield from _listed(report.by_person, limit, person_line)


def changed_line(item: Replayed) -> str:
    old, new = item.past.decided, item.new
    parts = [f"{old.kind} → {new.kind}" if old.kind != new.kind else old.kind]
    if old.department != new.department:
        parts.append(f"department {old.department} → {new.department}")
    if old.supplier_id != new.supplier_id:
        parts.append(f"supplier {old.supplier_id or '-'} → {new.supplier_id or '-'}")
    if old.assigned_supplier_id != new.assigned_supplier_id:
        parts.append(f"handed to {old.assigned_supplier_id or '-'} → "
                     f"{new.assigned_supplier_id or '-'}")
    rules = ", ".join(item.rules) or "none"
    return f"{item.ref}  {'; '.join(parts)}  rules: {rules}  | {excerpt(item.past.text)}"


def person_line(item: Replayed) -> str:
    past = item.past
    verdict = "agree" if item.new.kind == past.current.kind else "differ"
    return (f"{item.ref}  {past.person} set {past.current.kind}; rules then "
            f"{past.decided.kind}, new rules {item.new.kind} ({verdict})  "
            f"rules: {', '.join(item.rules) or 'none'}  | {excerpt(past.text)}")


def excerpt(text: str) -> str:
    """The first 80 characters on one line: enough to recognise the message."""
    return " ".join(text.split())[:_TEXT_CHARS]


def _ranked(counter: Counter[tuple[str, str]]) -> list[tuple[tuple[str, str], int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))


def _limited(items: Sequence[Replayed], limit: int | None) -> Sequence[Replayed]:
    return items if limit is None else items[:limit]


def _listed(items: Sequence[Replayed], limit: int | None,
            line: Callable[[Replayed], str]) -> Iterator[str]:
    for item in _limited(items, limit):
        yield line(item)
    hidden = len(items) - len(_limited(items, limit))
    if hidden:
        yield f"  … {hidden} more (--limit)"
