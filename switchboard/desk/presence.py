"""Who is answering a ticket right now: an agent who opens Slack's *Reply to customer* form
holds the ticket for `WINDOW`; its card says "Lan đang trả lời / Lan is replying", and a
second agent who sends an answer meanwhile is warned first (sending again goes ahead).
Sending releases the ticket. Slack tells a bot nothing about typing, so opening the form
is the sign."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tickets.schema import ticket_presence

WINDOW = timedelta(minutes=5)


def claim(conn: Connection, ticket_id: int, agent: str, now: datetime) -> None:
    """The agent holds the ticket from now (an upsert: two agents opening the form at once
    leave the later one holding it)."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(ticket_presence).values(ticket_id=ticket_id, agent=agent[:128], since=now)
    conn.execute(stmt.on_conflict_do_update(index_elements=["ticket_id"], set_={
        "agent": stmt.excluded.agent, "since": stmt.excluded.since}))


def holder(conn: Connection, ticket_id: int, now: datetime) -> tuple[str, datetime] | None:
    """Who holds the ticket now, and since when; None when nobody does (or it went stale)."""
    row = conn.execute(select(ticket_presence.c.agent, ticket_presence.c.since)
                       .where(ticket_presence.c.ticket_id == ticket_id)).first()
    if row is None or now - row.since > WINDOW:
        return None
    return str(row.agent), row.since


def other_holder(conn: Connection, ticket_id: int, agent: str,
                 now: datetime) -> tuple[str, datetime] | None:
    found = holder(conn, ticket_id, now)
    return found if found is not None and found[0] != agent else None


def release(conn: Connection, ticket_id: int, agent: str) -> None:
    conn.execute(delete(ticket_presence).where(ticket_presence.c.ticket_id == ticket_id,
                                               ticket_presence.c.agent == agent[:128]))
