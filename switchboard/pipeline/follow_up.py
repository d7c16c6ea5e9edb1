"""A follow-up joins its ticket. It reopens a closed ticket, takes a ticket waiting for the
customer back to open, reclassifies the ticket only when the ticket was a question or a
guess and the follow-up is a confident complaint, names the supplier when the ticket had
none (`mã đơn của em là DH...`), and moves the SLA clocks as the new status says."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection

from router import Classification
from switchboard.pipeline import journal, routing
from switchboard.pipeline.context import Context
from switchboard.pipeline.outcome import Decision, TicketView
from switchboard.pipeline.threads import Thread
from tickets import store
from tickets.store import CLOSED_STATUSES, JournalEntry, TicketHead


def join_ticket(ctx: Context, conn: Connection, thread: Thread, result: Classification,
                identity: Sequence[JournalEntry], now: datetime) -> Decision:
    head = thread.ticket
    assert head is not None
    values: dict[str, object] = {"updated_at": now}
    entries = [JournalEntry("message_added", thread.reason), *_reopened(head, values)]
    ticket = TicketView(head.id, head.category, head.topic, head.supplier_id, head.department)
    upgrade = _upgrades(ctx, head, result)
    if upgrade:
        ticket = _reclassify(ctx, head, result, values, entries)
    elif head.supplier_id is None and result.supplier_id:
        ticket = _name_supplier(ctx, head, result, values, entries)
    entries += _move_clocks(ctx, head, ticket, upgrade, values, now)
    store.update_ticket(conn, head.id, values)
    # who the customer is was said when the ticket opened; repeat it only for news
    entries += [e for e in identity if e.action != "identified"]
    return Decision("joined", ticket, entries)


def _reopened(head: TicketHead, values: dict[str, object]) -> list[JournalEntry]:
    if head.status in CLOSED_STATUSES:
        values.update(status="open", closed_at=None)
        return [JournalEntry("status_changed", f"{head.status} → open: the customer "
                             "wrote again", data={"from": head.status, "to": "open"})]
    if head.status == "pending_customer":
        values["status"] = "open"
        return [JournalEntry("status_changed", "pending_customer → open: the customer "
                             "answered", data={"from": head.status, "to": "open"})]
    return []


def _upgrades(ctx: Context, head: TicketHead, result: Classification) -> bool:
    """A question or a guess that a confident complaint now explains."""
    guessed = head.category == "inquiry" or head.confidence < ctx.settings.classifier.threshold
    return guessed and result.category != "inquiry" and not result.fallback


def _reclassify(ctx: Context, head: TicketHead, result: Classification,
                values: dict[str, object], entries: list[JournalEntry]) -> TicketView:
    supplier_id = result.supplier_id or head.supplier_id
    routed = routing.decide(ctx.routing, result.category, result.topic, supplier_id,
                            result.department, result.department_rule)
    values.update(category=result.category, topic=result.topic, supplier_id=supplier_id,
                  department=routed.department,
                  assigned_supplier_id=routed.assigned_supplier_id,
                  confidence=result.confidence, rules=list(result.rules))
    entries += [journal.classified(result, reclassified_from=head.category), routed.routed]
    return TicketView(head.id, result.category, result.topic, supplier_id, routed.department)


def _name_supplier(ctx: Context, head: TicketHead, result: Classification,
                   values: dict[str, object], entries: list[JournalEntry]) -> TicketView:
    routed = routing.decide(ctx.routing, head.category, head.topic, result.supplier_id)
    values.update(supplier_id=result.supplier_id,
                  assigned_supplier_id=routed.assigned_supplier_id)
    entries.append(JournalEntry(
        "supplier_identified", f"supplier {result.supplier_id} "
        f"({result.supplier_source}) from the customer's follow-up",
        data={"supplier_id": result.supplier_id}))
    if routed.assigned is not None:
        entries.append(routed.assigned)
    return TicketView(head.id, head.category, head.topic, result.supplier_id, head.department)


def _move_clocks(ctx: Context, head: TicketHead, ticket: TicketView, upgrade: bool,
                 values: dict[str, object], now: datetime) -> list[JournalEntry]:
    clocks, entries = ctx.sla.follow_up(head.sla, head.status,
                                        str(values.get("status", head.status)), now)
    if upgrade and clocks:  # another category may mean another SLA policy
        entry = ctx.sla.repolicy(clocks["sla"], {
            "category": ticket.category, "topic": ticket.topic, "channel": head.channel,
            "priority": head.priority, "tier": None, "department": str(values.get(
                "department", head.department))}, "switchboard")
        if entry is not None:
            clocks.update(ctx.sla.columns(clocks["sla"]))
            entries.append(entry)
    values.update(clocks)
    return list(entries)
