"""Routing: which department owns a classified ticket, and whether its supplier must act.

A table from the configuration, not code: category and topic map to departments; `product`
and `supplier` complaints whose supplier is known are also handed to that supplier's account.
Every decision carries a sentence for the journal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RoutingTable:
    by_category: Mapping[str, str]
    by_topic: Mapping[str, str]
    default_department: str
    supplier_acts_on: tuple[str, ...] = ("product", "supplier")
    unknown_supplier_department: str | None = None


@dataclass(frozen=True, slots=True)
class Route:
    department: str
    assigned_supplier_id: str | None
    reasons: tuple[str, ...]


def route(table: RoutingTable, category: str, topic: str | None, supplier_id: str | None,
          department: str | None = None, department_rule: str | None = None) -> Route:
    """`department` (from a rule's action) wins over the table."""
    reasons: list[str] = []
    if department:
        reasons.append(f"rule {department_rule or '?'} sends it to {department}")
    elif topic and topic in table.by_topic:
        department = table.by_topic[topic]
        reasons.append(f"topic {topic} goes to {department}")
    elif category in table.by_category:
        department = table.by_category[category]
        reasons.append(f"category {category} goes to {department}")
    else:
        department = table.default_department
        reasons.append(f"no route for {category}; default department {department}")
    assigned = None
    if category in table.supplier_acts_on:
        if supplier_id:
            assigned = supplier_id
            reasons.append(f"{category} complaint handed to supplier {supplier_id}'s account")
        else:
            if table.unknown_supplier_department and not department:
                department = table.unknown_supplier_department
            reasons.append(f"{category} complaint but the supplier is unknown: "
                           f"{department} must find out who it is")
    return Route(department, assigned, tuple(reasons))
