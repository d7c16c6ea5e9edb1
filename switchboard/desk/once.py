"""Acting once on what Slack may send twice: Slack retries events, actions and commands it
thinks were lost, and a retried action must not act twice (DESIGN invariant 2)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tickets.schema import slack_events


def first_time(conn: Connection, key: str, now: datetime) -> bool:
    """Whether `key` is new (and remember it, in the caller's transaction)."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    return conn.execute(insert(slack_events).values(key=key[:128], received_at=now)
                        .on_conflict_do_nothing(index_elements=["key"])
                        .returning(slack_events.c.key)).first() is not None
