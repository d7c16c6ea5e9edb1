"""Customers and their identities: one person, many addresses, phones and platform ids.

Merging is automatic only on an exact identity match (the same E.164 phone, the same
address), because a wrong merge shows one customer's orders to another; a resemblance of
names is only ever recorded as a suggestion for a person to confirm.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, insert, select, update

from tickets.fastsql import FastSelect
from tickets.schema import customers, identities, merge_suggestions, tickets


@dataclass(frozen=True, slots=True)
class Merge:
    kept: int
    dropped: int
    reason: str


_BY_IDENTITY = select(identities.c.customer_id).where(
    identities.c.kind == bindparam("kind"), identities.c.value == bindparam("value"))
_IDENTITIES_OF = FastSelect(select(identities.c.kind, identities.c.value)
                            .where(identities.c.customer_id == bindparam("customer_id"))
                            .order_by(identities.c.id))
_INSERT_CUSTOMER = customers.insert()
_SAME_NAME = FastSelect(select(customers.c.id).where(
    customers.c.name_key == bindparam("key"), customers.c.id != bindparam("me"),
    customers.c.merged_into.is_(None)).limit(5))
_INSERT_IDENTITY = identities.insert()


def find_by_identity(conn: Connection, kind: str, value: str) -> int | None:
    row = conn.execute(_BY_IDENTITY, {"kind": kind, "value": value}).first()
    return None if row is None else int(row.customer_id)


def name_key(name: str | None) -> str | None:
    """Names compared for merge suggestions: same letters and marks, any case or spacing
    (diacritics are kept: `Lan` and `Lân` are different people)."""
    if not name or not name.strip():
        return None
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())[:255]


def create(conn: Connection, name: str | None, now: datetime) -> int:
    result = conn.execute(_INSERT_CUSTOMER,
                          {"name": name, "name_key": name_key(name), "created_at": now})
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def add_identity(
    conn: Connection, customer_id: int, kind: str, value: str, now: datetime, source: str
) -> None:
    conn.execute(_INSERT_IDENTITY, {"customer_id": customer_id, "kind": kind, "value": value,
                                    "created_at": now, "source": source})


def link(
    conn: Connection, customer_id: int, kind: str, value: str, now: datetime, source: str
) -> Merge | None:
    """Attach an identity seen in a message to the customer; merge if it is someone's already.

    The older customer is kept: their tickets and identities predate this conversation.
    """
    owner = find_by_identity(conn, kind, value)
    if owner is None:
        add_identity(conn, customer_id, kind, value, now, source)
        return None
    if owner == customer_id:
        return None
    keep, drop = sorted((owner, customer_id))
    reason = f"{kind} {value} belongs to both customer #{customer_id} and customer #{owner}"
    merge(conn, keep, drop)
    return Merge(kept=keep, dropped=drop, reason=reason)


def merge(conn: Connection, keep: int, drop: int) -> None:
    conn.execute(update(identities).where(identities.c.customer_id == drop)
                 .values(customer_id=keep))
    conn.execute(update(tickets).where(tickets.c.customer_id == drop).values(customer_id=keep))
    conn.execute(update(customers).where(customers.c.id == drop).values(merged_into=keep))
    keep_name = conn.execute(select(customers.c.name).where(customers.c.id == keep)).scalar()
    if keep_name is None:
        drop_name = conn.execute(select(customers.c.name).where(customers.c.id == drop)).scalar()
        conn.execute(update(customers).where(customers.c.id == keep)
                     .values(name=drop_name, name_key=name_key(drop_name)))


def suggest_by_name(
    conn: Connection, customer_id: int, name: str, now: datetime
) -> list[int]:
    """Record customers with the same name as merge candidates (never merged silently)."""
    key = name_key(name)
    if key is None:
        return []
    candidates = [int(row[0]) for row in _SAME_NAME.all(conn, {"key": key, "me": customer_id})]
    for candidate in candidates:
        exists = conn.execute(
            select(merge_suggestions.c.id).where(
                merge_suggestions.c.customer_id == customer_id,
                merge_suggestions.c.candidate_id == candidate,
            )
        ).first()
        if exists is None:
            conn.execute(insert(merge_suggestions).values(
                customer_id=customer_id, candidate_id=candidate,
                reason=f"same name {name!r}", created_at=now,
            ))
    return candidates


def identity_values(conn: Connection, customer_id: int) -> list[tuple[str, str]]:
    return [(kind, value) for kind, value in _IDENTITIES_OF.all(conn,
                                                                {"customer_id": customer_id})]


def contacts_of(conn: Connection, customer_id: int) -> tuple[list[str], list[str]]:
    """The customer's phones and emails: what imported orders are keyed by."""
    ids = identity_values(conn, customer_id)
    return [v for k, v in ids if k == "phone"], [v for k, v in ids if k == "email"]


@dataclass(frozen=True, slots=True)
class Tier:
    name: str
    min_spend: int


def tier_for(total_spend: int, tiers: list[Tier]) -> str:
    """The highest tier whose threshold the customer's order value reaches."""
    for tier in sorted(tiers, key=lambda t: t.min_spend, reverse=True):
        if total_spend >= tier.min_spend:
            return tier.name
    return "standard"
