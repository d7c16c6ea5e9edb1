"""A page of tickets for a search (`GET /api/tickets?q=`, `tickets list --search`, Slack's
`/search`): the tickets of the customer a phone or an email names, those whose customer
placed the order a code names, then those whose text matches, newest first, every filter
applied. It stops reading when the page is full: `more` says whether other tickets match."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from tickets import search
from tickets.identities import normalize_email, normalize_phone
from tickets.schema import identities, orders, tickets

CHUNK = 2_000  # matching messages read per step
MAX_SCANNED = 400_000  # matching messages read at most for one page


def search_page(conn: Connection, value: str, where: Any, limit: int, offset: int
                ) -> tuple[list[int], int, bool]:
    """(ticket ids of the page in order, how many matched up to the page's end, whether
    more match). `where` is the filters' condition on `tickets`. Matches are read newest
    first in growing steps and only until the page is full: counting every match of a
    common word would cost more than the page."""
    wanted = offset + limit + 1
    found = _allowed(conn, _by_identity(conn, value), where)
    seen = set(found)
    query = search.parse(value)
    below: int | None = None
    # the first step asks for little more than the page: a common pair's messages are
    # found near the newest, and each row asked for is a row the index walk must find
    scanned, step, exhausted = 0, min(CHUNK, wanted + wanted // 4), query is None
    while not exhausted and len(found) < wanted and scanned < MAX_SCANNED:
        assert query is not None
        rows = search.newest_matching(conn, query, below, step, where)
        exhausted = len(rows) < step
        if not rows:
            break
        scanned += len(rows)
        below = rows[-1][0]
        step = min(CHUNK * 8, step * 4)
        fresh = list(dict.fromkeys(t for _, t in rows if t not in seen))
        found += fresh  # the filters were applied in the same query
        seen.update(fresh)
    more = len(found) >= wanted or (not exhausted and scanned >= MAX_SCANNED)
    page = found[offset:offset + limit]
    if query is not None:
        page = search.exact_first(conn, query, page)
    return page, min(len(found), offset + limit), more


def _allowed(conn: Connection, ticket_ids: Sequence[int], where: Any) -> list[int]:
    """`ticket_ids` that pass the filters, in the order given."""
    if not ticket_ids:
        return []
    keep = {int(t) for t in conn.execute(
        select(tickets.c.id).where(tickets.c.id.in_(list(ticket_ids)), where)).scalars()}
    return [t for t in ticket_ids if t in keep]


def _by_identity(conn: Connection, value: str) -> list[int]:
    """Tickets of whoever a phone, an email or an order code names, newest first."""
    value = value.strip()
    contacts: list[tuple[str, str]] = []
    phone = normalize_phone(value) if any(c.isdigit() for c in value) else None
    if phone:
        contacts.append(("phone", phone))
    email = normalize_email(value) if "@" in value else None
    if email:
        contacts.append(("email", email))
    if search.looks_like_order_code(value):
        code = "".join(value.split()).upper()
        for row in conn.execute(select(orders.c.customer_phone, orders.c.customer_email)
                                .where(orders.c.code == code)):
            contacts += [("phone", row.customer_phone)] if row.customer_phone else []
            contacts += [("email", row.customer_email)] if row.customer_email else []
    if not contacts:
        return []
    customers: set[int] = set()
    for kind, contact in contacts:
        customers.update(int(c) for c in conn.execute(
            select(identities.c.customer_id).where(identities.c.kind == kind,
                                                   identities.c.value == contact)).scalars())
    if not customers:
        return []
    return [int(t) for t in conn.execute(
        select(tickets.c.id).where(tickets.c.customer_id.in_(sorted(customers)))
        .order_by(tickets.c.id.desc()).limit(search.MAX_TOTAL)).scalars()]
