"""How often people corrected the router: per week (ISO, in the configured zone) and per
category the router gave, the tickets opened, how many a person reclassified, and the share.
The accuracy that matters, measured in production rather than on a labelled set."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Connection, select

from switchboard.insight.report_tables import ReportData, Table
from tickets.schema import corrections


def corrected_tickets(conn: Connection, ids: list[int]) -> dict[int, str]:
    """ticket id → the category the router had given it, for tickets a person corrected."""
    found: dict[int, str] = {}
    for i in range(0, len(ids), 900):  # SQLite's bound-parameter limit
        for r in conn.execute(select(corrections.c.ticket_id, corrections.c.router_category)
                              .where(corrections.c.ticket_id.in_(ids[i:i + 900]))
                              .order_by(corrections.c.id)):
            found.setdefault(int(r.ticket_id), str(r.router_category))
    return found


def corrections_by_week(data: ReportData, corrected: dict[int, str]) -> Table:
    table = Table("corrections", "Người sửa phân loại / corrected by people",
                  ["tuần / week", "phân loại của router / router's category",
                   "phiếu / tickets", "bị sửa / corrected", "tỉ lệ / share %"])
    opened: Counter[tuple[str, str]] = Counter()
    fixed: Counter[tuple[str, str]] = Counter()
    for row in data.rows:
        year, week, _ = row.created_at.astimezone(data.zone).isocalendar()
        router_said = corrected.get(row.id, row.category)
        key = (f"{year}-W{week:02d}", router_said)
        opened[key] += 1
        if row.id in corrected:
            fixed[key] += 1
    rows: list[list[Any]] = []
    for key in sorted(opened):
        share = round(100 * fixed[key] / opened[key], 1)
        rows.append([key[0], key[1], opened[key], fixed[key], share])
    table.rows = rows
    return table
