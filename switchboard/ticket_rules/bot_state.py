"""A ticket's passage between the bot and people.

A ticket the bot answered is `bot_answered`: out of agents' queues and round-robin, with no
SLA clock (a bot's answer must never meet a human promise by itself). The moment people
take it — the customer asks for a person, says the answer did not help, complains, or any
person answers it from anywhere — it becomes `open`, its clocks start from that moment as
for a new ticket, and `bot_state` says `handed_over`: the bot is silent on it from then on.
The reasons are the dashboard's handover reasons."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select

from switchboard.ticket_rules.sla_keeper import Keeper
from tickets import store
from tickets.fastsql import FastSelect
from tickets.schema import tickets
from tickets.store import JournalEntry

REASONS = {
    "customer_request": "the customer asked for a person",
    "not_helpful": "the customer said the bot's answer did not help",
    "complaint": "a complaint: people answer those",
    "low_confidence": "the bot was not sure enough to answer",
    "unknown_order": "an order the bot cannot tell this writer about",
    "public_channel": "an order asked about in public, where the bot gives no order details",
    "person_answered": "a person answered the ticket",
    "desk_request": "a request a rule sends to its own desk (a personal-data request)",
}
BOT_STATUS = "bot_answered"


def answered(now: datetime) -> dict[str, Any]:
    """The columns of a ticket the bot has just answered: no clock runs."""
    return {"status": BOT_STATUS, "bot_state": "answered", "sla": None, "sla_next_at": None,
            "sla_level": "none", "assignee": None, "updated_at": now}


# asked of every follow-up on a ticket the bot answered: straight on the cursor
_HELD = FastSelect(select(
    tickets.c.status, tickets.c.bot_state, tickets.c.category, tickets.c.topic,
    tickets.c.channel, tickets.c.priority, tickets.c.department,
    tickets.c.assigned_supplier_id).where(tickets.c.id == bindparam("ticket_id")))


def hand_over(conn: Connection, keeper: Keeper, ticket_id: int, reason: str, actor: str,
              now: datetime) -> list[JournalEntry]:
    """Give a bot-answered ticket to people (in the caller's transaction); its journal lines,
    none when the bot did not hold it."""
    row = _HELD.first(conn, {"ticket_id": ticket_id})
    if row is None or row[1] != "answered":
        return []
    status, _, category, topic, channel, priority, department, supplier_id = row
    clocks, sla_entry = keeper.initial(
        {"category": category, "topic": topic, "channel": channel,
         "priority": priority, "tier": None, "department": department},
        supplier_id is not None, now)
    values: dict[str, Any] = {"bot_state": "handed_over", "updated_at": now, **clocks}
    entries = [JournalEntry("bot_handover", f"handed to people: {REASONS.get(reason, reason)}",
                            actor=actor, data={"reason": reason})]
    if status == BOT_STATUS:
        values["status"] = "open"
        entries.append(JournalEntry("status_changed", f"{BOT_STATUS} → open: people have it",
                                    actor=actor, data={"from": BOT_STATUS, "to": "open"}))
    store.update_ticket(conn, ticket_id, values)
    if sla_entry is not None:
        entries.append(sla_entry)
    return entries


def declined(reason: str) -> JournalEntry:
    """The bot looked at a new ticket and left it to people from the start."""
    return JournalEntry("bot_handover", f"left to people: {REASONS.get(reason, reason)}",
                        data={"reason": reason})
