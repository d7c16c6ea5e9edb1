"""The numbers managers look at: tickets per day, SLA compliance, response and resolution
times, suppliers with the most complaints, late tickets, agents' workload, satisfaction.

One read of the tickets in the chosen range (and their SLA events) feeds every table, so a
page is a few queries whatever it shows; days are counted in the configured zone. Each
table is a `Table` (title, columns, rows): the page draws it and the CSV export writes the
same rows, so what is downloaded is what was seen. This module reads; `report_tables` has
one function per table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from switchboard.insight.bot_table import bot_activity, load_events
from switchboard.insight.corrections_table import corrected_tickets, corrections_by_week
from switchboard.insight.report_tables import (
    COMPLAINTS,
    ReportData,
    Table,
    day_counts,
    holders,
    late_open,
    per_day,
    response_times,
    satisfaction,
    sla_by_department,
    sla_by_supplier,
    sla_by_timer,
    sla_counts,
    top_suppliers,
    totals,
    workload,
)
from tickets.schema import sla_events, suppliers, tickets

__all__ = ["COMPLAINTS", "Filters", "Report", "Table", "build", "load"]


@dataclass(frozen=True, slots=True)
class Filters:
    since: date
    until: date  # inclusive
    department: str | None = None
    channel: str | None = None
    supplier: str | None = None
    departments: tuple[str, ...] = ()  # the manager's scope; empty: all

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        start = datetime.combine(self.since, time(), zone)
        end = datetime.combine(self.until + timedelta(days=1), time(), zone)
        return start, end


@dataclass(slots=True)
class Report:
    filters: Filters
    totals: dict[str, Any]
    tables: dict[str, Table]
    series: dict[str, dict[str, list[int]]]  # chart name -> label -> one value per day
    days: list[date]


def load(conn: Connection, f: Filters, zone: ZoneInfo) -> list[Any]:
    start, end = f.bounds(zone)
    stmt = select(tickets.c.id, tickets.c.created_at, tickets.c.channel, tickets.c.category,
                  tickets.c.topic, tickets.c.department, tickets.c.supplier_id,
                  tickets.c.assigned_supplier_id, tickets.c.assignee, tickets.c.status,
                  tickets.c.first_response_at, tickets.c.closed_at, tickets.c.sla_level,
                  tickets.c.sla, tickets.c.csat, tickets.c.subject, tickets.c.sender_kind,
                  ).where(tickets.c.created_at >= start, tickets.c.created_at < end)
    if f.department:
        stmt = stmt.where(tickets.c.department == f.department)
    if f.departments:
        stmt = stmt.where(tickets.c.department.in_(f.departments))
    if f.channel:
        stmt = stmt.where(tickets.c.channel == f.channel)
    if f.supplier:
        stmt = stmt.where(tickets.c.supplier_id == f.supplier)
    return list(conn.execute(stmt.order_by(tickets.c.id)).all())


def _events(conn: Connection, ids: list[int]) -> list[Any]:
    found: list[Any] = []
    for i in range(0, len(ids), 900):  # SQLite's bound-parameter limit
        found += conn.execute(select(sla_events.c.ticket_id, sla_events.c.timer,
                                     sla_events.c.level, sla_events.c.kind)
                              .where(sla_events.c.ticket_id.in_(ids[i:i + 900]))).all()
    return found


def build(conn: Connection, f: Filters, zone: ZoneInfo, prefix: str, now: datetime,
          channels: Iterable[str], departments: dict[str, str]) -> Report:
    """Read once, then build each table from the same `ReportData` (see `report_tables`),
    in the order the page and the CSV export show them."""
    rows = load(conn, f, zone)
    by_id = {r.id: r for r in rows}
    met, reached = sla_counts(_events(conn, list(by_id)), by_id)
    names = dict(conn.execute(select(suppliers.c.id, suppliers.c.name)).all())
    days = [f.since + timedelta(days=i) for i in range((f.until - f.since).days + 1)]
    data = ReportData(rows=rows, by_id=by_id, met=met, reached=reached, names=names,
                      departments=departments, days=days, zone=zone, prefix=prefix, now=now)
    per_channel, per_category = day_counts(data, channels)
    tables = [per_day(data, per_channel, per_category), sla_by_timer(data),
              sla_by_department(data), sla_by_supplier(data), response_times(data),
              top_suppliers(data), late_open(data), workload(data), satisfaction(data),
              holders(data), bot_activity(data, load_events(conn, list(by_id))),
              corrections_by_week(data, corrected_tickets(conn, list(by_id)))]
    return Report(f, totals(data), {table.name: table for table in tables},
                  {"channel": per_channel, "category": per_category}, days)
