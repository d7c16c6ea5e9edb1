"""The numbers managers look at: tickets per day, SLA compliance, response and resolution
times, suppliers with the most complaints, late tickets, agents' workload, satisfaction.

One read of the tickets in the chosen range (and their SLA events) feeds every table, so a
page is a few queries whatever it shows; days are counted in the configured zone. Each
table is a `Table` (title, columns, rows): the page draws it and the CSV export writes the
same rows, so what is downloaded is what was seen.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from sla.policy import SUPPLIER_TIMERS
from tickets.refs import format_ref
from tickets.schema import sla_events, suppliers, tickets
from tickets.store import CLOSED_STATUSES

COMPLAINTS = ("product", "supplier", "service", "supplier_platform")


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
class Table:
    name: str
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)


@dataclass(slots=True)
class Report:
    filters: Filters
    totals: dict[str, Any]
    tables: dict[str, Table]
    series: dict[str, dict[str, list[int]]]  # chart name -> label -> one value per day
    days: list[date]


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)


def _quantile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank quantile: the value a person can find in the list (no interpolation)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 1))  # ceil
    return ordered[int(rank) - 1]


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


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
    rows = load(conn, f, zone)
    by_id = {r.id: r for r in rows}
    events = _events(conn, list(by_id))
    names = dict(conn.execute(select(suppliers.c.id, suppliers.c.name)).all())
    days = [f.since + timedelta(days=i) for i in range((f.until - f.since).days + 1)]
    day_index = {d: i for i, d in enumerate(days)}

    per_channel: dict[str, list[int]] = {c: [0] * len(days) for c in channels}
    per_category: dict[str, list[int]] = {c: [0] * len(days) for c in (*COMPLAINTS, "inquiry")}
    for r in rows:
        i = day_index.get(r.created_at.astimezone(zone).date())
        if i is None:
            continue
        per_channel.setdefault(r.channel, [0] * len(days))[i] += 1
        per_category.setdefault(r.category, [0] * len(days))[i] += 1
    per_channel = {k: v for k, v in per_channel.items() if any(v)}
    per_category = {k: v for k, v in per_category.items() if any(v)}

    tables: dict[str, Table] = {}
    daily = Table("per_day", "Phiếu mỗi ngày / tickets per day",
                  ["date", *per_channel, "total", *(f"cat:{c}" for c in per_category)])
    for i, d in enumerate(days):
        by_channel = [per_channel[c][i] for c in per_channel]
        daily.rows.append([d.isoformat(), *by_channel, sum(by_channel),
                           *(per_category[c][i] for c in per_category)])
    tables["per_day"] = daily

    # SLA: stops say met or missed; escalations say which level each ticket reached
    met: Counter[tuple[str, str, str]] = Counter()  # (dimension, value, timer+kind)
    reached: dict[int, set[int]] = defaultdict(set)
    for e in events:
        r = by_id[e.ticket_id]
        if e.kind in ("met", "missed"):
            for dim, value in _dims(r, e.timer):
                met[(dim, value, f"{e.timer}:{e.kind}")] += 1
        elif e.level:
            reached[e.ticket_id].add(e.level)
    timers_seen = sorted({k[2].split(":")[0] for k in met})
    sla_timer = Table("sla_by_timer", "SLA theo đồng hồ / SLA per timer",
                      ["timer", "by", "value", "met", "missed", "hit_pct"])
    for timer in timers_seen:
        for dim in ("channel", "category", "department", "supplier"):
            values = sorted({k[1] for k in met if k[0] == dim and k[2].startswith(timer + ":")})
            for value in values:
                hit, miss = met[(dim, value, f"{timer}:met")], met[(dim, value, f"{timer}:missed")]
                sla_timer.rows.append([timer, dim, _label(dim, value, names, departments), hit,
                                       miss, _pct(hit, hit + miss)])
    tables["sla_by_timer"] = sla_timer

    for dim, title in (("department", "SLA theo bộ phận / SLA by department"),
                       ("supplier", "SLA theo nhà cung cấp / SLA by supplier")):
        table = Table(f"sla_by_{dim}", title, [dim, "tickets", "met", "missed", "hit_pct",
                                              "yellow", "red", "yellow_to_red"])
        groups: dict[str, list[Any]] = defaultdict(list)
        for r in rows:
            key = r.department if dim == "department" else (r.assigned_supplier_id or "")
            if key:
                groups[key].append(r)
        for key, members in sorted(groups.items()):
            hit = sum(v for k, v in met.items() if k[0] == dim and k[1] == key
                      and k[2].endswith(":met"))
            miss = sum(v for k, v in met.items() if k[0] == dim and k[1] == key
                       and k[2].endswith(":missed"))
            yellow = sum(1 for m in members if 1 in reached.get(m.id, ()))
            red = sum(1 for m in members if reached.get(m.id, set()) - {1})
            both = sum(1 for m in members if 1 in reached.get(m.id, ())
                       and reached[m.id] - {1})
            table.rows.append([_label(dim, key, names, departments), len(members), hit, miss,
                               _pct(hit, hit + miss), yellow, red, both])
        tables[table.name] = table

    times = Table("response_times", "Thời gian phản hồi & giải quyết (giờ) / response and "
                  "resolution time (hours)", ["department", "tickets", "first_response_median",
                                              "first_response_p90", "resolution_median",
                                              "resolution_p90"])
    groups = defaultdict(list)
    for r in rows:
        groups[r.department].append(r)
    for key, members in [*sorted(groups.items()), ("(all)", rows)]:
        first = [(m.first_response_at - m.created_at).total_seconds() for m in members
                 if m.first_response_at]
        resolved = [(m.closed_at - m.created_at).total_seconds() for m in members
                    if m.closed_at and m.status in CLOSED_STATUSES]
        times.rows.append([_label("department", key, names, departments), len(members),
                           _hours(statistics.median(first)) if first else None,
                           _hours(_quantile(first, 0.9)),
                           _hours(statistics.median(resolved)) if resolved else None,
                           _hours(_quantile(resolved, 0.9))])
    tables["response_times"] = times

    top = Table("top_suppliers", "NCC bị khiếu nại nhiều nhất / suppliers with the most "
                "complaints", ["supplier", "complaints", "open", "red", "csat_avg"])
    complaints: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        if r.supplier_id and r.category in ("product", "supplier") and r.sender_kind != "supplier":
            complaints[r.supplier_id].append(r)
    for key, members in sorted(complaints.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:20]:
        rated = [m.csat for m in members if m.csat]
        top.rows.append([names.get(key, key), len(members),
                         sum(1 for m in members if m.status not in CLOSED_STATUSES),
                         sum(1 for m in members if m.sla_level == "red"),
                         round(statistics.mean(rated), 2) if rated else None])
    tables["top_suppliers"] = top

    late = Table("late_open", "Phiếu đang vàng/đỏ / open yellow and red tickets",
                 ["ticket", "level", "department", "assignee", "supplier", "age_hours",
                  "subject"])
    for r in sorted((r for r in rows if r.status not in CLOSED_STATUSES
                     and r.sla_level in ("yellow", "red")),
                    key=lambda r: (r.sla_level != "red", r.created_at)):
        late.rows.append([format_ref(prefix, r.id), r.sla_level,
                          _label("department", r.department, names, departments),
                          r.assignee or "", names.get(r.assigned_supplier_id or "", "")
                          if r.assigned_supplier_id else "",
                          _hours((now - r.created_at).total_seconds()), r.subject or ""])
    tables["late_open"] = late

    work = Table("workload", "Khối lượng nhân viên / agents' workload",
                 ["agent", "open", "yellow", "red", "resolved", "csat_avg", "csat_answers"])
    agents: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        if r.assignee:
            agents[r.assignee].append(r)
    for key, members in sorted(agents.items()):
        open_ = [m for m in members if m.status not in CLOSED_STATUSES]
        rated = [m.csat for m in members if m.csat]
        work.rows.append([key, len(open_), sum(1 for m in open_ if m.sla_level == "yellow"),
                          sum(1 for m in open_ if m.sla_level == "red"),
                          sum(1 for m in members if m.status in CLOSED_STATUSES),
                          round(statistics.mean(rated), 2) if rated else None, len(rated)])
    tables["workload"] = work

    csat = Table("satisfaction", "Mức hài lòng / satisfaction (1–5)",
                 ["by", "value", "answers", "average", "satisfied_pct"])
    for dim in ("department", "supplier", "agent"):
        scores: dict[str, list[int]] = defaultdict(list)
        for r in rows:
            key = {"department": r.department, "supplier": r.assigned_supplier_id or "",
                   "agent": r.assignee or ""}[dim]
            if key and r.csat:
                scores[key].append(r.csat)
        for key, answers in sorted(scores.items()):
            csat.rows.append([dim, _label(dim, key, names, departments), len(answers),
                              round(statistics.mean(answers), 2),
                              _pct(sum(1 for v in answers if v >= 4), len(answers))])
    tables["satisfaction"] = csat

    held = Table("holders", "Ai giữ phiếu bao lâu (giờ) / who held complaints (hours)",
                 ["category", "tickets", "platform", "supplier", "customer", "carrier"])
    held_by: dict[str, Counter[str]] = defaultdict(Counter)
    counted: Counter[str] = Counter()
    for r in rows:
        if r.category == "inquiry":
            continue
        end = r.closed_at if r.status in CLOSED_STATUSES and r.closed_at else now
        waits = dict((r.sla or {}).get("waits") or {})
        pause = (r.sla or {}).get("pause")
        if pause:  # still waiting: count up to now
            since = datetime.fromisoformat(pause["since"])
            waits[pause["holder"]] = waits.get(pause["holder"], 0.0) + \
                max(0.0, (now - since).total_seconds())
        total = max(0.0, (end - r.created_at).total_seconds())
        others = sum(waits.values())
        held_by[r.category]["platform"] += max(0.0, total - others)
        for holder, seconds in waits.items():
            held_by[r.category][holder] += seconds
        counted[r.category] += 1
    for key in sorted(held_by):
        c = held_by[key]
        held.rows.append([key, counted[key], _hours(c["platform"]), _hours(c["supplier"]),
                          _hours(c["customer"]), _hours(c["carrier"])])
    tables["holders"] = held

    hit_all = sum(v for k, v in met.items() if k[0] == "channel" and k[2].endswith(":met"))
    miss_all = sum(v for k, v in met.items() if k[0] == "channel" and k[2].endswith(":missed"))
    rated_all = [r.csat for r in rows if r.csat]
    totals = {
        "tickets": len(rows),
        "complaints": sum(1 for r in rows if r.category != "inquiry"),
        "open": sum(1 for r in rows if r.status not in CLOSED_STATUSES),
        "yellow": sum(1 for r in rows if r.status not in CLOSED_STATUSES
                      and r.sla_level == "yellow"),
        "red": sum(1 for r in rows if r.status not in CLOSED_STATUSES and r.sla_level == "red"),
        "sla_hit_pct": _pct(hit_all, hit_all + miss_all),
        "csat_avg": round(statistics.mean(rated_all), 2) if rated_all else None,
    }
    return Report(f, totals, tables, {"channel": per_channel, "category": per_category}, days)


def _dims(r: Any, timer: str) -> list[tuple[str, str]]:
    dims = [("channel", r.channel), ("category", r.category), ("department", r.department)]
    supplier = r.assigned_supplier_id or (r.supplier_id if timer in SUPPLIER_TIMERS else None)
    if supplier:
        dims.append(("supplier", supplier))
    return dims


def _label(dim: str, value: str, names: dict[str, str], departments: dict[str, str]) -> str:
    if dim == "supplier":
        return names.get(value, value)
    if dim == "department":
        return departments.get(value, value)
    return value
