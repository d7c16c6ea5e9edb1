"""The past a replay starts from: each ticket's opening message and what was decided on it.

`switchboard rules replay` (see `replay`) compares candidate rules with what the rules
decided when a ticket opened. This module owns reading that past from the record, never
recomputing it: the first inbound message's `classification` column (category, topic,
supplier, confidence, rules fired) and the first `routed` journal entry written by the
machine (the department). Comparing with the rules' decision rather than with the ticket as
it stands keeps later events out of the comparison: a follow-up that named the supplier, or
a person who reclassified the ticket. Who reclassified a ticket by hand is read here too, so
the replay can report those tickets apart.

The customer's phones and emails are those known when the ticket opened (identities carry
their `created_at`), so an address linked later does not change what the customer's orders
were then.

Everything here takes an open connection and only reads; `replay` supplies the read-only
transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, select

from router import RoutingTable, route
from tickets.identities import IdentityKind
from tickets.schema import identities, journal, messages, tickets

# Journal actors that are the software, not a person (JournalEntry's default is "switchboard").
MACHINE_ACTORS = frozenset({"switchboard", "system"})
_CHUNK = 500  # tickets whose journal is read in one query


@dataclass(frozen=True, slots=True)
class Decision:
    """What a ticket is and where it goes: the part of a decision the replay compares."""

    category: str
    topic: str | None
    supplier_id: str | None
    department: str
    assigned_supplier_id: str | None

    @property
    def kind(self) -> str:
        return self.category + (f"/{self.topic}" if self.topic else "")

    def as_dict(self) -> dict[str, Any]:
        return {"category": self.category, "topic": self.topic,
                "supplier_id": self.supplier_id, "department": self.department,
                "assigned_supplier_id": self.assigned_supplier_id}


@dataclass(frozen=True, slots=True)
class Past:
    """One ticket as the record has it: the opening message and the decisions on it."""

    ticket_id: int
    created_at: datetime
    customer_id: int
    channel: str
    sender: str
    subject: str | None
    text: str
    decided: Decision  # what the rules said when the ticket opened (or the ticket, if unknown)
    from_record: bool  # False when the opening message had no stored classification
    current: Decision  # the ticket as it stands
    person: str | None  # who reclassified it by hand, if a person did
    from_address: str | None = None  # an email's From, when answers were asked elsewhere


def contacts_then(conn: Connection, customer_id: int, opened: datetime, kind: str,
                  value: str) -> tuple[list[str], list[str]]:
    """The customer's phones and emails known when the ticket opened, the sender's first:
    what the pipeline looked the customer's orders up by."""
    phones = [value] if kind == IdentityKind.PHONE else []
    emails = [value] if kind == IdentityKind.EMAIL else []
    rows = conn.execute(select(identities.c.kind, identities.c.value)
                        .where(identities.c.customer_id == customer_id,
                               identities.c.created_at <= opened)
                        .order_by(identities.c.id))
    for row in rows:
        if row.kind == IdentityKind.PHONE and row.value not in phones:
            phones.append(row.value)
        elif row.kind == IdentityKind.EMAIL and row.value not in emails:
            emails.append(row.value)
    return phones, emails


def history(conn: Connection, start: datetime, end: datetime | None,
            old_table: RoutingTable) -> Iterator[Past | None]:
    """Each ticket of the period with its opening message (None for a ticket without an
    inbound message, which has nothing to replay), oldest first."""
    first_in = (select(messages.c.ticket_id, func.min(messages.c.id).label("message_id"))
                .where(messages.c.direction == "in").group_by(messages.c.ticket_id)
                .subquery())
    when = [tickets.c.created_at >= start] + ([tickets.c.created_at < end] if end else [])
    query = (select(tickets, messages.c.channel.label("m_channel"), messages.c.author,
                    messages.c.subject.label("m_subject"), messages.c.text,
                    messages.c.classification, messages.c.meta)
             .select_from(tickets.outerjoin(first_in, first_in.c.ticket_id == tickets.c.id)
                          .outerjoin(messages, messages.c.id == first_in.c.message_id))
             .where(and_(*when)).order_by(tickets.c.id))
    for chunk in conn.execute(query).partitions(_CHUNK):
        entries = _journal_of(conn, [r.id for r in chunk])
        for row in chunk:
            yield None if row.text is None else _past(row, entries.get(row.id, []), old_table)


def _journal_of(conn: Connection, ticket_ids: Sequence[int]) -> dict[int, list[Any]]:
    """The journal entries that tell who decided: routing by the rules, reclassification."""
    found: dict[int, list[Any]] = {}
    rows = conn.execute(select(journal.c.ticket_id, journal.c.actor, journal.c.action,
                               journal.c.data)
                        .where(journal.c.ticket_id.in_(ticket_ids),
                               journal.c.action.in_(("routed", "reclassified")))
                        .order_by(journal.c.id))
    for row in rows:
        found.setdefault(row.ticket_id, []).append(row)
    return found


def _past(row: Any, entries: Sequence[Any], old_table: RoutingTable) -> Past:
    current = Decision(row.category, row.topic, row.supplier_id, row.department,
                       row.assigned_supplier_id)
    decided, from_record, rules_confidence = _decided(row.classification, entries, current,
                                                      old_table)
    meta: Mapping[str, Any] = row.meta or {}
    return Past(
        ticket_id=row.id, created_at=row.created_at, customer_id=row.customer_id,
        channel=row.m_channel, sender=str(meta.get("from") or row.author),
        subject=row.m_subject, text=row.text, decided=decided, from_record=from_record,
        current=current, person=_person(entries, row.confidence, rules_confidence),
        from_address=meta.get("from_address") or None,
    )


def _decided(stored: Mapping[str, Any] | None, entries: Sequence[Any], current: Decision,
             old_table: RoutingTable) -> tuple[Decision, bool, float | None]:
    """What the rules decided when the ticket opened, from the opening message's
    `classification` and the machine's first `routed` entry. The hand-over to a supplier
    follows from category and supplier, so it is the old routing table's answer (the
    journal's `assigned` entries mix agents and suppliers, people and the machine)."""
    if not stored or "category" not in stored:
        return current, False, None
    routed = next((e.data.get("department") for e in entries
                   if e.action == "routed" and e.actor in MACHINE_ACTORS), None)
    category, topic, supplier_id = stored["category"], stored.get("topic"), stored.get(
        "supplier_id")
    assigned = route(old_table, category, topic, supplier_id).assigned_supplier_id
    confidence = stored.get("confidence")
    return (Decision(category, topic, supplier_id, routed or current.department, assigned),
            True, float(confidence) if confidence is not None else None)


def _person(entries: Sequence[Any], confidence: float, rules_confidence: float | None
            ) -> str | None:
    """Who reclassified the ticket by hand: a `reclassified` entry by someone other than the
    machine, or a confidence of 1 the rules never gave (desk.reclassify sets 1.0)."""
    for entry in entries:
        if entry.action == "reclassified" and entry.actor not in MACHINE_ACTORS:
            return str(entry.actor)
    if confidence >= 1.0 and (rules_confidence is None or rules_confidence < 1.0):
        return "a person"
    return None
