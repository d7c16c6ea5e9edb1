"""A message that continues no ticket opens one: routed, given its SLA clocks (by the tier
the customer had when it opened), and journaled as one story — who wrote, what the router
said, where it went and which clock runs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from router import Classification
from switchboard.pipeline import journal, routing
from switchboard.pipeline.context import Context
from switchboard.pipeline.identify import Customer, Sender
from switchboard.pipeline.outcome import Decision, TicketView
from switchboard.pipeline.threads import Thread
from tickets import store
from tickets.customers import tier_for
from tickets.messages import InboundMessage
from tickets.store import JournalEntry


def open_ticket(ctx: Context, conn: Connection, message: InboundMessage, who: Customer,
                sender: Sender, result: Classification, thread: Thread,
                now: datetime) -> Decision:
    tier = tier_for(sum(o.amount for o in who.bought), ctx.tiers)
    routed = routing.decide(ctx.routing, result.category, result.topic, result.supplier_id,
                            result.department, result.department_rule)
    clocks, sla_entry = ctx.sla.initial(
        {"category": result.category, "topic": result.topic,
         "channel": message.channel.value, "priority": result.priority, "tier": tier,
         "department": routed.department},
        routed.assigned_supplier_id is not None, now)
    ticket_id = store.create_ticket(conn, {
        "status": "open", "channel": message.channel.value, "category": result.category,
        "topic": result.topic, "supplier_id": result.supplier_id,
        "department": routed.department,
        "assigned_supplier_id": routed.assigned_supplier_id, "priority": result.priority,
        "customer_id": who.id, "sender_kind": sender.author_kind,
        "subject": journal.subject_of(message), "confidence": result.confidence,
        "rules": list(result.rules), "tags": list(result.tags), "sla_level": "none",
        "thread_key": message.conversation, "linked_ticket_id": thread.linked_to,
        "created_at": now, "updated_at": now, "sla": None, "sla_next_at": None,
        "sla_version": 0, "first_response_at": None, "assignee": None, "closed_at": None,
        **clocks,
    })
    # who wrote is part of the story of the ticket's creation: one entry, not two
    identified, others = who.entries[0], who.entries[1:]
    entries = [JournalEntry("created", f"from {message.channel.value}: {thread.reason}; "
                            f"{identified.reason}",
                            data={"linked_ticket_id": thread.linked_to, **identified.data}),
               *others, journal.classified(result), routed.routed]
    if routed.assigned is not None:
        entries.append(routed.assigned)
    if sla_entry is not None:
        entries.append(sla_entry)
    ticket = TicketView(ticket_id, result.category, result.topic, result.supplier_id,
                        routed.department)
    return Decision("created", ticket, entries)
