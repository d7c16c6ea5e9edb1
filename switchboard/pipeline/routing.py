"""Routing, once per decision: the router's pure `route` and the journal lines that say
why, so that opening a ticket and reclassifying it by a follow-up explain themselves in the
same words."""

from __future__ import annotations

from dataclasses import dataclass

from router import RoutingTable, route
from tickets.store import JournalEntry


@dataclass(frozen=True, slots=True)
class Routed:
    department: str
    assigned_supplier_id: str | None
    routed: JournalEntry  # which department, and why
    assigned: JournalEntry | None  # handed to the supplier's own account, when it is


def decide(table: RoutingTable, category: str, topic: str | None, supplier_id: str | None,
           department: str | None = None, department_rule: str | None = None) -> Routed:
    decided = route(table, category, topic, supplier_id, department, department_rule)
    assigned = decided.assigned_supplier_id
    return Routed(
        decided.department, assigned,
        JournalEntry("routed", "; ".join(decided.reasons),
                     data={"department": decided.department}),
        JournalEntry("assigned", f"handed to supplier {assigned}",
                     data={"supplier_id": assigned}) if assigned else None)
