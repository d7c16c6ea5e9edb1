"""Everything Switchboard holds about one person, in one document: what a customer asking
for their data under Vietnam's Personal Data Protection Law (No. 91/2025/QH15) receives.

A person is the customer and every customer merged into them (their identities and tickets
moved; the merged rows remain as pointers), the orders placed with their phones and emails,
every ticket they opened with its messages (ours included: they are part of the
conversation), the attachments' descriptions (name, type, size, hash: the files themselves
are exported by the operator from the stored paths), the journal lines of those tickets,
the participants of their mail threads, their satisfaction answers and what the outbox
sent or will send them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, or_, select

from tickets.catalog import orders_for_contacts
from tickets.customers import contacts_of
from tickets.refs import format_ref
from tickets.schema import (
    customers,
    identities,
    journal,
    merge_suggestions,
    messages,
    outbox,
    personal_data_log,
    ticket_participants,
    tickets,
)

FORMAT = "switchboard.personal-data/1"


def canonical(conn: Connection, customer_id: int) -> int | None:
    seen: set[int] = set()
    current: int | None = customer_id
    while current is not None and current not in seen:
        seen.add(current)
        row = conn.execute(select(customers.c.id, customers.c.merged_into)
                           .where(customers.c.id == current)).first()
        if row is None:
            return None
        if row.merged_into is None:
            return int(row.id)
        current = int(row.merged_into)
    return None


def export(conn: Connection, customer_id: int, prefix: str, now: datetime) -> dict[str, Any] | None:
    """The document, or None when there is no such customer."""
    main = canonical(conn, customer_id)
    if main is None:
        return None
    people = merged_family(conn, main)
    phones, emails = contacts_of(conn, main)
    ticket_rows = conn.execute(select(tickets).where(tickets.c.customer_id.in_(people))
                               .order_by(tickets.c.id)).all()
    ticket_ids = [t.id for t in ticket_rows]
    return {
        "format": FORMAT,
        "exported_at": now.isoformat(),
        "customer": _customer(conn, main, people),
        "identities": [_identity(r) for r in conn.execute(
            select(identities).where(identities.c.customer_id.in_(people))
            .order_by(identities.c.id))],
        "merge_suggestions": [
            {"customer_id": r.customer_id, "candidate_id": r.candidate_id,
             "reason": r.reason, "created_at": _when(r.created_at)}
            for r in conn.execute(select(merge_suggestions).where(or_(
                merge_suggestions.c.customer_id.in_(people),
                merge_suggestions.c.candidate_id.in_(people))))],
        "orders": [{"order_code": o.code, "supplier_id": o.supplier_id, "product": o.product,
                    "amount": o.amount, "phone": o.phone, "email": o.email}
                   for o in orders_for_contacts(conn, phones, emails)],
        "tickets": [_ticket(conn, row, prefix) for row in ticket_rows],
        "outbox": _outbox(conn, ticket_ids, phones, emails),
    }


def merged_family(conn: Connection, main: int) -> list[int]:
    """The customer and every customer merged into them, however deep."""
    family, frontier = [main], [main]
    while frontier:
        frontier = [int(r.id) for r in conn.execute(
            select(customers.c.id).where(customers.c.merged_into.in_(frontier)))]
        frontier = [c for c in frontier if c not in family]
        family += frontier
    return family


def _customer(conn: Connection, main: int, people: Sequence[int]) -> dict[str, Any]:
    rows = {r.id: r for r in conn.execute(select(customers).where(customers.c.id.in_(people)))}
    row = rows[main]
    return {"id": main, "name": row.name, "created_at": _when(row.created_at),
            "merged_from": [{"id": r.id, "name": r.name, "created_at": _when(r.created_at)}
                            for cid, r in sorted(rows.items()) if cid != main]}


def _identity(row: Any) -> dict[str, Any]:
    return {"kind": row.kind, "value": row.value, "source": row.source,
            "customer_id": row.customer_id, "created_at": _when(row.created_at)}


def _ticket(conn: Connection, row: Any, prefix: str) -> dict[str, Any]:
    return {
        "ref": format_ref(prefix, row.id), "status": row.status, "channel": row.channel,
        "category": row.category, "topic": row.topic, "supplier_id": row.supplier_id,
        "department": row.department, "subject": row.subject,
        "created_at": _when(row.created_at), "closed_at": _when(row.closed_at),
        "satisfaction": None if row.csat is None else {"rating": row.csat,
                                                       "at": _when(row.csat_at)},
        "participants": [r.address for r in conn.execute(
            select(ticket_participants.c.address)
            .where(ticket_participants.c.ticket_id == row.id)
            .order_by(ticket_participants.c.address))],
        "messages": [_message(m) for m in conn.execute(
            select(messages).where(messages.c.ticket_id == row.id).order_by(messages.c.id))],
        "journal": [{"at": _when(j.at), "actor": j.actor, "action": j.action,
                     "reason": j.reason} for j in conn.execute(
            select(journal).where(journal.c.ticket_id == row.id).order_by(journal.c.id))],
    }


def _message(row: Any) -> dict[str, Any]:
    return {"direction": row.direction, "channel": row.channel, "author": row.author,
            "author_kind": row.author_kind, "subject": row.subject, "text": row.text,
            "created_at": _when(row.created_at),
            "attachments": [{"filename": a.get("filename"),
                             "content_type": a.get("content_type"),
                             "size": a.get("size"), "sha256": a.get("sha256")}
                            for a in row.attachments or []]}


def _outbox(conn: Connection, ticket_ids: Sequence[int], phones: Sequence[str],
            emails: Sequence[str]) -> list[dict[str, Any]]:
    rows = conn.execute(select(outbox).where(or_(
        outbox.c.ticket_id.in_(ticket_ids), outbox.c.recipient.in_([*phones, *emails])))
        .order_by(outbox.c.id)).all()
    return [{"channel": r.channel, "kind": r.kind, "recipient": r.recipient,
             "status": r.status, "created_at": _when(r.created_at),
             "sent_at": _when(r.sent_at)} for r in rows if r.channel != "slack"]


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def log(conn: Connection, actor: str, via: str, action: str, customer_id: int | None,
        now: datetime, detail: dict[str, Any] | None = None) -> None:
    """One line in the personal-data log: who read, exported or erased whose data."""
    conn.execute(personal_data_log.insert().values(
        at=now, actor=actor[:320], via=via[:16], action=action[:16], customer_id=customer_id,
        detail=detail or {}))


def access_log(conn: Connection, customer_id: int) -> list[dict[str, Any]]:
    """Every recorded read, export and erasure of the person (merged customers included),
    oldest first."""
    main = canonical(conn, customer_id)
    people = merged_family(conn, main) if main is not None else [customer_id]
    return [{"at": r.at, "actor": r.actor, "via": r.via, "action": r.action,
             "customer_id": r.customer_id, "detail": r.detail}
            for r in conn.execute(select(personal_data_log)
                                  .where(personal_data_log.c.customer_id.in_(people))
                                  .order_by(personal_data_log.c.id))]
