"""Read models for operators and the API: ticket lists, one ticket whole, customer profiles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, func, select, true

from tickets.catalog import orders_for_contacts
from tickets.customers import Tier, contacts_of, identity_values, tier_for
from tickets.schema import customers, identities, journal, messages, tickets
from tickets.ticket_search import search_page


def first_inbound_text() -> Any:
    """A column for a query over tickets: the text of each ticket's first inbound message
    (a correlated subquery, so a list of tickets is one statement, not one per row)."""
    return (select(messages.c.text)
            .where(messages.c.ticket_id == tickets.c.id, messages.c.direction == "in")
            .order_by(messages.c.id).limit(1).correlate(tickets).scalar_subquery())

TICKET_FIELDS = ("ref", "status", "channel", "category", "topic", "supplier_id", "department",
                 "customer_id", "sla_level", "subject", "created_at")


@dataclass(frozen=True, slots=True)
class TicketFilter:
    status: str | None = None
    category: str | None = None
    topic: str | None = None
    department: str | None = None
    departments: Sequence[str] = ()
    supplier_id: str | None = None
    channel: str | None = None
    sla_level: str | None = None
    customer_id: int | None = None
    text: str | None = None


def _filtered(stmt: Select[Any], f: TicketFilter) -> Select[Any]:
    for column, value in (
        (tickets.c.status, f.status), (tickets.c.category, f.category),
        (tickets.c.topic, f.topic), (tickets.c.department, f.department),
        (tickets.c.supplier_id, f.supplier_id), (tickets.c.channel, f.channel),
        (tickets.c.sla_level, f.sla_level), (tickets.c.customer_id, f.customer_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if f.departments:
        stmt = stmt.where(tickets.c.department.in_(list(f.departments)))
    return stmt


def _where(f: TicketFilter) -> Any:
    """The filters (not the text) as one condition on `tickets`."""
    clause = _filtered(select(tickets.c.id), f).whereclause
    return clause if clause is not None else true()


def ticket_row(row: Any, prefix: str) -> dict[str, Any]:
    return {
        "ref": f"{prefix}-{row.id}",
        "status": row.status,
        "channel": row.channel,
        "category": row.category,
        "topic": row.topic,
        "supplier_id": row.supplier_id,
        "department": row.department,
        "customer_id": row.customer_id,
        "sla_level": row.sla_level,
        "subject": row.subject,
        "created_at": row.created_at,
        "priority": row.priority,
        "assigned_supplier_id": row.assigned_supplier_id,
        "assignee": row.assignee,
        "first_response_at": row.first_response_at,
        "sla_next_at": row.sla_next_at,
        "confidence": row.confidence,
        "rules": list(row.rules or []),
        "tags": list(row.tags or []),
        "updated_at": row.updated_at,
        "linked_ticket": f"{prefix}-{row.linked_ticket_id}" if row.linked_ticket_id else None,
    }


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    total: int  # with a search: the matches up to the page's end (see `more`)
    more: bool  # a search: more tickets match than the pages so far


def ticket_page(conn: Connection, prefix: str, f: TicketFilter, limit: int = 50,
                offset: int = 0) -> Page:
    """Newest first; with `f.text`, the search's order (see tickets.ticket_search)."""
    if f.text and f.text.strip():
        ids, total, more = search_page(conn, f.text, _where(f), limit, offset)
        rows = {r.id: r for r in conn.execute(select(tickets).where(tickets.c.id.in_(ids)))}
        return Page([ticket_row(rows[i], prefix) for i in ids if i in rows], total, more)
    total = conn.execute(_filtered(select(func.count()).select_from(tickets), f)).scalar_one()
    rows_ = conn.execute(
        _filtered(select(tickets), f).order_by(tickets.c.id.desc()).limit(limit).offset(offset)
    ).all()
    return Page([ticket_row(r, prefix) for r in rows_], int(total), False)


def list_tickets(conn: Connection, prefix: str, f: TicketFilter, limit: int = 50,
                 offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    page = ticket_page(conn, prefix, f, limit, offset)
    return page.items, page.total


def get_ticket(conn: Connection, prefix: str, ticket_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(tickets).where(tickets.c.id == ticket_id)).first()
    if row is None:
        return None
    result = ticket_row(row, prefix)
    result["sla_state"] = row.sla
    result["messages"] = [
        {
            "id": m.id,
            "direction": m.direction,
            "channel": m.channel,
            "author": m.author,
            "author_kind": m.author_kind,
            "subject": m.subject,
            "text": m.text,
            "created_at": m.created_at,
            "attachments": list(m.attachments or []),
            "external_id": m.external_id,
            "delivery": (m.meta or {}).get("delivery"),
            "delivery_error": (m.meta or {}).get("error"),
        }
        for m in conn.execute(select(messages).where(messages.c.ticket_id == ticket_id)
                              .order_by(messages.c.created_at, messages.c.id))
    ]
    result["journal"] = [
        {"at": j.at, "actor": j.actor, "action": j.action, "reason": j.reason,
         "data": dict(j.data or {})}
        for j in conn.execute(select(journal).where(journal.c.ticket_id == ticket_id)
                              .order_by(journal.c.id))
    ]
    return result


def customer_by_identity(conn: Connection, kind: str, value: str) -> int | None:
    row = conn.execute(select(identities.c.customer_id)
                       .where(identities.c.kind == kind, identities.c.value == value)).first()
    return None if row is None else int(row.customer_id)


def customer_profile(conn: Connection, prefix: str, customer_id: int, tiers: Sequence[Tier],
                     now: datetime) -> dict[str, Any] | None:
    row = conn.execute(select(customers).where(customers.c.id == customer_id)).first()
    if row is None:
        return None
    if row.merged_into:
        return customer_profile(conn, prefix, int(row.merged_into), tiers, now)
    phones, emails = contacts_of(conn, customer_id)
    bought = orders_for_contacts(conn, phones, emails)
    spend = sum(o.amount for o in bought)
    earlier = conn.execute(
        select(tickets).where(tickets.c.customer_id == customer_id).order_by(tickets.c.id.desc())
    ).all()
    return {
        "customer_id": customer_id,
        "name": row.name,
        "first_seen": row.created_at,
        "returning": len(earlier) > 1 or bool(bought),
        "tier": tier_for(spend, list(tiers)),
        "total_spend": spend,
        "identities": [{"kind": k, "value": v} for k, v in identity_values(conn, customer_id)],
        "orders": [{"order_code": o.code, "supplier_id": o.supplier_id, "product": o.product,
                    "amount": o.amount} for o in bought],
        "tickets": [ticket_row(t, prefix) for t in earlier],
    }
