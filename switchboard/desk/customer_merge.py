"""Merging two customers by hand, and undoing it within a day.

The pipeline merges customers only on an exact identity (the same phone, the same
address); a person may know more ("the Zalo user who wrote yesterday is the lady who just
called"). Merging moves the dropped customer's identities and tickets to the kept one (and
with them the orders keyed by those phones and emails), marks the dropped one as merged,
and records exactly what moved, so that an undo within `UNDO_WITHIN` moves back those
identities and tickets and nothing else (tickets the kept customer opened since stay).
Every moved ticket's journal says who merged or unmerged whom.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, insert, select, update

from switchboard.desk.actions import ActionRefused
from tickets import customers as customers_store
from tickets import store
from tickets.schema import customer_merges, customers, identities, tickets
from tickets.store import JournalEntry

UNDO_WITHIN = timedelta(hours=24)


def merge(conn: Connection, keep: int, drop: int, actor: str, now: datetime) -> int:
    """Merge customer `drop` into `keep`; the merge's id (for an undo)."""
    if keep == drop:
        raise ActionRefused(f"customer #{keep} cannot be merged into itself")
    rows = {r.id: r for r in conn.execute(
        select(customers).where(customers.c.id.in_([keep, drop])).with_for_update())}
    for customer_id in (keep, drop):
        if customer_id not in rows:
            raise ActionRefused(f"no customer #{customer_id}")
        if rows[customer_id].merged_into is not None:
            raise ActionRefused(f"customer #{customer_id} was merged into "
                                f"#{rows[customer_id].merged_into}: use that one")
    identity_ids = [int(i) for i in conn.execute(
        select(identities.c.id).where(identities.c.customer_id == drop)).scalars()]
    ticket_ids = [int(t) for t in conn.execute(
        select(tickets.c.id).where(tickets.c.customer_id == drop)).scalars()]
    take_name = rows[keep].name is None and rows[drop].name is not None
    customers_store.merge(conn, keep, drop)  # the same move as the pipeline's exact merges
    inserted = conn.execute(insert(customer_merges).values(
        kept_id=keep, dropped_id=drop, identity_ids=identity_ids, ticket_ids=ticket_ids,
        name_taken=take_name, merged_by=actor[:128], merged_at=now)).inserted_primary_key
    assert inserted is not None
    merge_id = int(inserted[0])
    _journal(conn, ticket_ids, now, JournalEntry(
        "customer_merged", f"{actor} merged customer #{drop} into #{keep} (merge {merge_id}: "
        "undoable for 24 h)", actor=actor, data={"merge": merge_id, "kept": keep,
                                                   "dropped": drop}))
    return merge_id


def undo(conn: Connection, merge_id: int, actor: str, now: datetime) -> tuple[int, int]:
    """Move back what merge `merge_id` moved; (kept, dropped)."""
    row = conn.execute(select(customer_merges).where(customer_merges.c.id == merge_id)
                       .with_for_update()).first()
    if row is None:
        raise ActionRefused(f"no customer merge {merge_id}")
    if row.undone_at is not None:
        raise ActionRefused(f"merge {merge_id} was already undone by {row.undone_by}")
    if now - row.merged_at > UNDO_WITHIN:
        raise ActionRefused(f"merge {merge_id} is older than 24 hours: merges are undone "
                            "within a day")
    later = conn.execute(select(customer_merges.c.id).where(
        customer_merges.c.dropped_id == row.kept_id, customer_merges.c.undone_at.is_(None),
        customer_merges.c.merged_at > row.merged_at)).first()
    if later is not None:
        raise ActionRefused(f"customer #{row.kept_id} was itself merged since "
                            f"(merge {later.id}): undo that first")
    if row.identity_ids:
        conn.execute(update(identities).where(identities.c.id.in_(row.identity_ids),
                                              identities.c.customer_id == row.kept_id)
                     .values(customer_id=row.dropped_id))
    if row.ticket_ids:
        conn.execute(update(tickets).where(tickets.c.id.in_(row.ticket_ids),
                                           tickets.c.customer_id == row.kept_id)
                     .values(customer_id=row.dropped_id))
    conn.execute(update(customers).where(customers.c.id == row.dropped_id)
                 .values(merged_into=None))
    if row.name_taken:
        conn.execute(update(customers).where(customers.c.id == row.kept_id)
                     .values(name=None, name_key=None))
    conn.execute(update(customer_merges).where(customer_merges.c.id == merge_id)
                 .values(undone_by=actor[:128], undone_at=now))
    _journal(conn, list(row.ticket_ids), now, JournalEntry(
        "customer_unmerged", f"{actor} undid merge {merge_id}: customer #{row.dropped_id} "
        f"is separate from #{row.kept_id} again", actor=actor, data={"merge": merge_id}))
    return int(row.kept_id), int(row.dropped_id)


def _journal(conn: Connection, ticket_ids: list[int], now: datetime,
             entry: JournalEntry) -> None:
    for ticket_id in ticket_ids:
        store.append_journal(conn, ticket_id, now, [entry])
