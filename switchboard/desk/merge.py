"""Merging a ticket into another: the customer wrote twice about one thing (an email and a
Zalo message, or a second email without the reference), and two agents would answer twice.

The source's messages and mail participants move to the target, so its history is one
conversation and any reply to an old message threads into the target; the source is
closed, points to the target (`linked_ticket_id`), hands it its chat conversation when
the target has none (the customer's next Zalo message joins the target), and its SLA
clocks stop without an
outcome: the target's clocks keep running, so each promise is counted once. The customer
is told nothing: they asked once, and the target's answers reach them as before. Both
tickets' journals say who merged what, and both Slack cards are refreshed.

Both rows are locked, lower id first, so two agents merging the same pair at once take
turns: the second finds the source already merged and is refused with the reason.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, select, update

from switchboard.desk import slack_cards
from switchboard.desk.actions import ActionRefused, Done
from switchboard.settings import Settings
from tickets import store
from tickets.refs import format_ref
from tickets.schema import messages, ticket_participants, tickets
from tickets.store import JournalEntry, TicketHead

MERGED = "merged"  # the tag a merged-away ticket carries


def merge(conn: Connection, settings: Settings, source_id: int, target_id: int, actor: str,
          now: datetime) -> Done:
    """Merge `source_id` into `target_id` (in the caller's transaction)."""
    prefix = settings.tickets.ref_prefix
    source_ref, target_ref = format_ref(prefix, source_id), format_ref(prefix, target_id)
    if source_id == target_id:
        raise ActionRefused(f"{source_ref} cannot be merged into itself")
    heads = {t: store.lock_head(conn, t) for t in sorted((source_id, target_id))}
    source, target = heads[source_id], heads[target_id]
    if source is None or target is None:
        raise ActionRefused(f"no ticket {source_ref if source is None else target_ref}")
    tags = {int(i): list(t or []) for i, t in conn.execute(
        select(tickets.c.id, tickets.c.tags).where(tickets.c.id.in_([source_id, target_id])))}
    _check(source, target, tags, source_ref, target_ref)
    moved = conn.execute(update(messages).where(messages.c.ticket_id == source_id)
                         .values(ticket_id=target_id)).rowcount
    _move_participants(conn, source_id, target_id)
    # the source's chat conversation now leads to the target (when the target has none:
    # an email ticket), so the customer's next message there joins it
    follow = bool(source.thread_key and not target.thread_key)
    store.update_ticket(conn, source_id, {
        "status": "closed", "closed_at": now, "updated_at": now, "linked_ticket_id": target_id,
        "sla": None, "sla_next_at": None, "tags": [*tags[source_id], MERGED],
        **({"thread_key": None} if follow else {})})
    store.update_ticket(conn, target_id, {
        "updated_at": now, **({"thread_key": source.thread_key} if follow else {})})
    store.append_journal(conn, source_id, now, [JournalEntry(
        "merged_into", f"{actor} merged it into {target_ref} ({moved} message(s) moved); "
        f"its SLA clocks stopped: {target_ref}'s run", actor=actor,
        data={"target": target_id, "messages": moved})])
    store.append_journal(conn, target_id, now, [JournalEntry(
        "merged_from", f"{actor} merged {source_ref} into it ({moved} message(s))",
        actor=actor, data={"source": source_id, "messages": moved})])
    slack_cards.refresh_card(conn, settings, source_id, now)
    slack_cards.to_thread(conn, settings, source_id,
                          f"🔀 Đã gộp vào / merged into {target_ref} ({actor})", now)
    slack_cards.refresh_card(conn, settings, target_id, now)
    slack_cards.to_thread(conn, settings, target_id,
                          f"🔀 {source_ref} đã gộp vào đây / merged into this ticket: "
                          f"{moved} tin nhắn / message(s) ({actor})", now)
    return Done(target_id, f"{source_ref} merged into {target_ref}")


def _check(source: TicketHead, target: TicketHead, tags: dict[int, list[str]],
           source_ref: str, target_ref: str) -> None:
    if MERGED in tags[source.id]:
        raise ActionRefused(f"{source_ref} is already merged")
    if MERGED in tags[target.id]:
        raise ActionRefused(f"{target_ref} was merged into another ticket: merge into that one")
    if source.customer_id != target.customer_id:
        raise ActionRefused(f"{source_ref} and {target_ref} are different customers' tickets: "
                            "merge the customers first")


def _move_participants(conn: Connection, source_id: int, target_id: int) -> None:
    have = set(conn.execute(select(ticket_participants.c.address)
                            .where(ticket_participants.c.ticket_id == target_id)).scalars())
    rows = conn.execute(select(ticket_participants.c.address, ticket_participants.c.role)
                        .where(ticket_participants.c.ticket_id == source_id)).all()
    new = [{"ticket_id": target_id, "address": r.address, "role": r.role}
           for r in rows if r.address not in have]
    if new:
        conn.execute(ticket_participants.insert(), new)
    conn.execute(ticket_participants.delete().where(ticket_participants.c.ticket_id == source_id))


def message_count(conn: Connection, ticket_id: int) -> int:
    return int(conn.execute(select(func.count()).where(messages.c.ticket_id == ticket_id))
               .scalar_one())
