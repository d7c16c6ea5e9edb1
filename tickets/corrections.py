"""People's corrections of the router, kept as labelled examples.

Every reclassification by a person (Slack's menu, the API, a macro) records the ticket's
first customer message, what the router said of it and what the person chose. They are
the router's real accuracy, measured in production (the dashboard's weekly table), and the
data a model is trained on (`switchboard corrections export` writes them in the labelled
sets' own format, so `benchmarks/classify_accuracy.py` scores the router against them).

The text is not copied: it is read from the message when exported, so an erasure, which
blanks the message, leaves nothing of the person here; erased texts are skipped."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from tickets.erasure import MARKER
from tickets.schema import corrections, messages, tickets


def record(conn: Connection, ticket_id: int, category: str, topic: str | None, actor: str,
           via: str, now: datetime) -> None:
    """In the caller's transaction, beside the reclassification itself."""
    first = conn.execute(select(messages.c.id, messages.c.classification).where(
        messages.c.ticket_id == ticket_id, messages.c.direction == "in")
        .order_by(messages.c.id).limit(1)).first()
    said = dict(first.classification or {}) if first is not None else {}
    if not said:  # no stored verdict (an old message): the ticket's own first routing
        row = conn.execute(select(tickets.c.category, tickets.c.topic, tickets.c.confidence,
                                  tickets.c.rules).where(tickets.c.id == ticket_id)).one()
        said = {"category": row.category, "topic": row.topic, "confidence": row.confidence,
                "rules": list(row.rules or [])}
    conn.execute(corrections.insert().values(
        ticket_id=ticket_id, message_id=first.id if first is not None else None,
        router_category=str(said.get("category") or ""), router_topic=said.get("topic"),
        router_confidence=said.get("confidence"), router_rules=list(said.get("rules") or []),
        category=category, topic=topic, actor=actor[:128], via=via[:32], at=now))


def examples(conn: Connection, since: datetime | None = None) -> Iterator[dict[str, Any]]:
    """The corrections as labelled lines, oldest first; the latest correction of a ticket
    wins (a person may change their mind), erased texts are left out."""
    stmt = (select(corrections, messages.c.text, messages.c.subject, messages.c.channel,
                   tickets.c.supplier_id)
            .join(messages, messages.c.id == corrections.c.message_id)
            .join(tickets, tickets.c.id == corrections.c.ticket_id)
            .order_by(corrections.c.id))
    if since is not None:
        stmt = stmt.where(corrections.c.at >= since)
    latest: dict[int, Any] = {}
    for row in conn.execute(stmt):
        latest[int(row.ticket_id)] = row
    for row in sorted(latest.values(), key=lambda r: int(r.id)):
        if row.text == MARKER:
            continue
        line: dict[str, Any] = {"id": f"correction-{row.id}", "channel": row.channel,
                                "text": row.text}
        if row.subject:
            line["subject"] = row.subject
        line["expected"] = {"category": row.category, "topic": row.topic,
                            "supplier_id": row.supplier_id}
        line["router"] = {"category": row.router_category, "topic": row.router_topic,
                          "confidence": row.router_confidence,
                          "rules": list(row.router_rules or [])}
        line["corrected"] = {"by": row.actor, "via": row.via, "at": row.at.isoformat()}
        yield line
