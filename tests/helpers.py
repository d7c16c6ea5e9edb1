"""Small helpers shared by tests: build messages, run the pipeline, count rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from switchboard.pipeline.runner import Outcome, Pipeline
from tickets import inbox
from tickets.database import Database
from tickets.messages import Channel, InboundMessage
from tickets.schema import messages, tickets


def message(external_id: str, text: str, *, channel: str = "messenger", sender: str = "1001",
            when: datetime, **extra: Any) -> InboundMessage:
    return InboundMessage(channel=Channel(channel), external_id=external_id, sender=sender,
                          text=text, received_at=when, **extra)


def deliver(pipeline: Pipeline, *items: InboundMessage) -> list[Outcome]:
    with pipeline.db.write() as conn:
        for item in items:
            inbox.put(conn, item, pipeline.clock.now())
    outcomes: list[Outcome] = []
    while batch := pipeline.run_batch():
        outcomes += batch
        if all(o.action in ("failed", "dead") for o in batch):
            break
    return outcomes


def count(db: Database, table: Any) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def ticket_count(db: Database) -> int:
    return count(db, tickets)


def message_count(db: Database) -> int:
    return count(db, messages)
