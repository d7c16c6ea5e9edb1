"""The satisfaction question after a ticket is resolved, and the customer's answer.

The question goes once per ticket, on the channel the customer wrote on, through the outbox
(it is automatic mail: no autoresponder answers it). The answer is a bare digit from 1 to
5, however it is dressed (`5`, `5*`, `5 sao`, `4/5`, `⭐4`); it is stored on the ticket and
does not reopen it. Anything else from the customer is a new message as usual.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime

from sqlalchemy import Connection, select, update

from switchboard.desk.supplier_mail import templates_for
from switchboard.outbox.compose import CannotReply, compose_reply, record_outbound
from switchboard.settings import Settings
from tickets import store
from tickets.refs import format_ref
from tickets.schema import tickets
from tickets.store import JournalEntry

_RATING = re.compile(
    r"^\s*(?:⭐|\*)?\s*([1-5])\s*(?:/\s*5|\*+|⭐+|sao|diem|điểm|stars?|points?)?\s*[.!]*\s*$",
    re.IGNORECASE)


def rating_in(text: str) -> int | None:
    """The 1..5 rating a short answer carries, or None."""
    if len(text) > 20:
        return None
    match = _RATING.match(text)
    return int(match.group(1)) if match else None


def ask(conn: Connection, settings: Settings, secret: bytes, ticket_id: int,
        now: datetime) -> JournalEntry | None:
    """Queue the question (once per ticket); None when it is off or cannot be sent."""
    if not settings.survey.enabled:
        return None
    row = conn.execute(select(tickets.c.survey_sent_at, tickets.c.sender_kind)
                       .where(tickets.c.id == ticket_id)).first()
    if row is None or row.survey_sent_at is not None or row.sender_kind == "supplier":
        return None
    ref = format_ref(settings.tickets.ref_prefix, ticket_id)
    text = templates_for(settings).text("chat/survey", "vi", ref=ref)
    try:
        message = compose_reply(conn, settings, secret, ticket_id, text, now=now)
    except CannotReply as exc:
        return JournalEntry("survey_skipped", f"no satisfaction question: {exc}")
    message = dataclasses.replace(message, automatic=True)
    record_outbound(conn, ticket_id=ticket_id, message=message, kind="survey", author="survey",
                    now=now)
    conn.execute(update(tickets).where(tickets.c.id == ticket_id).values(survey_sent_at=now))
    return JournalEntry("survey_sent", f"satisfaction question sent by {message.channel.value}")


def awaiting(conn: Connection, settings: Settings, customer_id: int,
             now: datetime) -> int | None:
    """The customer's latest ticket whose question is still unanswered, if any. Chat
    channels do not thread into closed tickets, so the answer is found by its customer."""
    found = conn.execute(
        select(tickets.c.id).where(tickets.c.customer_id == customer_id,
                                   tickets.c.survey_sent_at >= now - settings.survey.answer_within,
                                   tickets.c.csat.is_(None))
        .order_by(tickets.c.survey_sent_at.desc()).limit(1)).scalar()
    return int(found) if found is not None else None


def record_answer(conn: Connection, settings: Settings, ticket_id: int, text: str,
                  now: datetime) -> bool:
    """Store the rating when this message answers the ticket's question; True if it did."""
    rating = rating_in(text)
    if rating is None:
        return False
    row = conn.execute(select(tickets.c.survey_sent_at, tickets.c.csat)
                       .where(tickets.c.id == ticket_id)).first()
    if row is None or row.survey_sent_at is None or row.csat is not None \
            or now - row.survey_sent_at > settings.survey.answer_within:
        return False
    if not conn.execute(update(tickets).where(tickets.c.id == ticket_id,
                                              tickets.c.csat.is_(None))
                        .values(csat=rating, csat_at=now)).rowcount:
        return False  # answered meanwhile
    store.append_journal(conn, ticket_id, now, [JournalEntry(
        "rated", f"the customer rated the support {rating}/5", data={"csat": rating})])
    return True
