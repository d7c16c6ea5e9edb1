"""Linking related tickets: a parent and its children (one delivery failure behind many
customers' complaints, a supplier's recall), or two that are merely related. Each link is
kept from both sides and journaled on both; unlinking does the same."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, select

from switchboard.desk.actions import ActionRefused
from tickets import store
from tickets.refs import format_ref
from tickets.schema import ticket_links
from tickets.store import JournalEntry

OPPOSITE = {"parent": "child", "child": "parent", "related": "related"}


def link(conn: Connection, prefix: str, ticket_id: int, other_id: int, kind: str,
         actor: str, now: datetime) -> None:
    """`other_id` becomes `kind` (parent, child, related) of `ticket_id`."""
    if kind not in OPPOSITE:
        raise ActionRefused(f"a link is parent, child or related, not {kind!r}")
    ref, other = format_ref(prefix, ticket_id), format_ref(prefix, other_id)
    if ticket_id == other_id:
        raise ActionRefused(f"{ref} cannot be linked to itself")
    for t in sorted((ticket_id, other_id)):
        if store.lock_head(conn, t) is None:
            raise ActionRefused(f"no ticket {format_ref(prefix, t)}")
    if kind == "parent" and _is_descendant(conn, ticket_id, other_id):
        raise ActionRefused(f"{other} is already below {ref}: a ticket cannot be its own "
                            "ancestor")
    if kind == "child" and _is_descendant(conn, other_id, ticket_id):
        raise ActionRefused(f"{ref} is already below {other}")
    unlink(conn, prefix, ticket_id, other_id, actor, now, quiet=True)
    conn.execute(ticket_links.insert(), [
        {"ticket_id": ticket_id, "other_id": other_id, "kind": kind, "created_by": actor,
         "created_at": now},
        {"ticket_id": other_id, "other_id": ticket_id, "kind": OPPOSITE[kind],
         "created_by": actor, "created_at": now}])
    store.append_journal(conn, ticket_id, now, [JournalEntry(
        "linked", f"{actor} linked {other} as its {kind}", actor=actor,
        data={"ticket": other_id, "kind": kind})])
    store.append_journal(conn, other_id, now, [JournalEntry(
        "linked", f"{actor} linked {ref} as its {OPPOSITE[kind]}", actor=actor,
        data={"ticket": ticket_id, "kind": OPPOSITE[kind]})])


def unlink(conn: Connection, prefix: str, ticket_id: int, other_id: int, actor: str,
           now: datetime, quiet: bool = False) -> bool:
    pair = ((ticket_links.c.ticket_id == ticket_id) & (ticket_links.c.other_id == other_id)) | (
        (ticket_links.c.ticket_id == other_id) & (ticket_links.c.other_id == ticket_id))
    removed = conn.execute(delete(ticket_links).where(pair)).rowcount
    if removed and not quiet:
        ref, other = format_ref(prefix, ticket_id), format_ref(prefix, other_id)
        for a, b in ((ticket_id, other), (other_id, ref)):
            store.append_journal(conn, a, now, [JournalEntry(
                "unlinked", f"{actor} removed the link to {b}", actor=actor)])
    return bool(removed)


def links_of(conn: Connection, prefix: str, ticket_id: int) -> list[dict[str, str]]:
    return [{"ticket": format_ref(prefix, r.other_id), "kind": r.kind}
            for r in conn.execute(select(ticket_links.c.other_id, ticket_links.c.kind)
                                  .where(ticket_links.c.ticket_id == ticket_id)
                                  .order_by(ticket_links.c.other_id))]


def _is_descendant(conn: Connection, ancestor: int, ticket_id: int) -> bool:
    """Whether `ticket_id` is below `ancestor` through child links (a parent loop refused)."""
    frontier, seen = [ancestor], {ancestor}
    while frontier:
        children = [int(c) for c in conn.execute(select(ticket_links.c.other_id).where(
            ticket_links.c.ticket_id.in_(frontier), ticket_links.c.kind == "child")).scalars()]
        if ticket_id in children:
            return True
        frontier = [c for c in children if c not in seen]
        seen.update(frontier)
    return False
