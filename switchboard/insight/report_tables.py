"""One function per dashboard table, so each table's rules can be read, tested and changed
on their own rather than inside one long `reports.build`.

`reports.build` reads the tickets in range and their SLA events once into a `ReportData`
and hands it to each builder in turn; a builder only reads it and returns its `Table` (the
per-day counts and the totals come the same way). `Table` and the small helpers the tables
share live here, so this module imports nothing from `reports` and there is no cycle.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sla.policy import SUPPLIER_TIMERS
from tickets.refs import format_ref
from tickets.store import CLOSED_STATUSES

COMPLAINTS = ("product", "supplier", "service", "supplier_platform")


@dataclass(slots=True)
class Table:
    name: str
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything the tables read, loaded once: the tickets in range (`rows`, and `by_id`),
    their SLA events boiled down to `met` ((dimension, value, "timer:met|missed") -> count)
    and `reached` (ticket id -> escalation levels), and what labels and dates need."""

    rows: list[Any]
    by_id: dict[int, Any]
    met: Counter[tuple[str, str, str]]
    reached: dict[int, set[int]]
    names: dict[str, str]  # supplier id -> name
    departments: dict[str, str]  # department -> its label
    days: list[date]  # every day of the range, in order
    zone: ZoneInfo
    prefix: str  # of ticket references
    now: datetime


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


def sla_counts(events: Iterable[Any], by_id: dict[int, Any],
               ) -> tuple[Counter[tuple[str, str, str]], dict[int, set[int]]]:
    """Stops say met or missed, counted once per dimension of the ticket (so each stop is
    counted once under "channel"); escalations say which level each ticket reached."""
    met: Counter[tuple[str, str, str]] = Counter()  # (dimension, value, timer+kind)
    reached: dict[int, set[int]] = defaultdict(set)
    for e in events:
        r = by_id[e.ticket_id]
        if e.kind in ("met", "missed"):
            for dim, value in _dims(r, e.timer):
                met[(dim, value, f"{e.timer}:{e.kind}")] += 1
        elif e.level:
            reached[e.ticket_id].add(e.level)
    return met, reached


def day_counts(data: ReportData, channels: Iterable[str],
               ) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """Tickets per day by channel and by category, in the configured zone: the charts'
    series and the per_day table. Configured channels and the complaint categories come
    first, then any other seen; only those with at least one ticket are kept."""
    days = data.days
    day_index = {d: i for i, d in enumerate(days)}
    per_channel: dict[str, list[int]] = {c: [0] * len(days) for c in channels}
    per_category: dict[str, list[int]] = {c: [0] * len(days) for c in (*COMPLAINTS, "inquiry")}
    for r in data.rows:
        i = day_index.get(r.created_at.astimezone(data.zone).date())
        if i is None:
            continue
        per_channel.setdefault(r.channel, [0] * len(days))[i] += 1
        per_category.setdefault(r.category, [0] * len(days))[i] += 1
    return ({k: v for k, v in per_channel.items() if any(v)},
            {k: v for k, v in per_category.items() if any(v)})


def per_day(data: ReportData, per_channel: dict[str, list[int]],
            per_category: dict[str, list[int]]) -> Table:
    daily = Table("per_day", "Phiếu mỗi ngày / tickets per day",
                  ["date", *per_channel, "total", *(f"cat:{c}" for c in per_category)])
    for i, d in enumerate(data.days):
        by_channel = [per_channel[c][i] for c in per_channel]
        daily.rows.append([d.isoformat(), *by_channel, sum(by_channel),
                           *(per_category[c][i] for c in per_category)])
    return daily


def sla_by_timer(data: ReportData) -> Table:
    met, names, departments = data.met, data.names, data.departments
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
    return sla_timer


def sla_by_department(data: ReportData) -> Table:
    return _sla_by(data, "department", "SLA theo bộ phận / SLA by department")


def sla_by_supplier(data: ReportData) -> Table:
    return _sla_by(data, "supplier", "SLA theo nhà cung cấp / SLA by supplier")


def _sla_by(data: ReportData, dim: str, title: str) -> Table:
    """Stops met and missed, and tickets that went yellow (level 1), red (beyond) or both,
    per department or per assigned supplier."""
    met, reached = data.met, data.reached
    table = Table(f"sla_by_{dim}", title, [dim, "tickets", "met", "missed", "hit_pct",
                                          "yellow", "red", "yellow_to_red"])
    groups: dict[str, list[Any]] = defaultdict(list)
    for r in data.rows:
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
        table.rows.append([_label(dim, key, data.names, data.departments), len(members), hit,
                           miss, _pct(hit, hit + miss), yellow, red, both])
    return table


def response_times(data: ReportData) -> Table:
    """Median and 90th percentile per department, then "(all)" over every ticket."""
    times = Table("response_times", "Thời gian phản hồi & giải quyết (giờ) / response and "
                  "resolution time (hours)", ["department", "tickets", "first_response_median",
                                              "first_response_p90", "resolution_median",
                                              "resolution_p90"])
    groups: dict[str, list[Any]] = defaultdict(list)
    for r in data.rows:
        groups[r.department].append(r)
    for key, members in [*sorted(groups.items()), ("(all)", data.rows)]:
        first = [(m.first_response_at - m.created_at).total_seconds() for m in members
                 if m.first_response_at]
        resolved = [(m.closed_at - m.created_at).total_seconds() for m in members
                    if m.closed_at and m.status in CLOSED_STATUSES]
        times.rows.append([_label("department", key, data.names, data.departments),
                           len(members),
                           _hours(statistics.median(first)) if first else None,
                           _hours(_quantile(first, 0.9)),
                           _hours(statistics.median(resolved)) if resolved else None,
                           _hours(_quantile(resolved, 0.9))])
    return times


def top_suppliers(data: ReportData) -> Table:
    """The 20 suppliers customers complained about most (product or supplier complaints;
    a supplier's own messages are not complaints about it)."""
    top = Table("top_suppliers", "NCC bị khiếu nại nhiều nhất / suppliers with the most "
                "complaints", ["supplier", "complaints", "open", "red", "csat_avg"])
    complaints: dict[str, list[Any]] = defaultdict(list)
    for r in data.rows:
        if r.supplier_id and r.category in ("product", "supplier") and r.sender_kind != "supplier":
            complaints[r.supplier_id].append(r)
    for key, members in sorted(complaints.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:20]:
        rated = [m.csat for m in members if m.csat]
        top.rows.append([data.names.get(key, key), len(members),
                         sum(1 for m in members if m.status not in CLOSED_STATUSES),
                         sum(1 for m in members if m.sla_level == "red"),
                         round(statistics.mean(rated), 2) if rated else None])
    return top


def late_open(data: ReportData) -> Table:
    """Open tickets at yellow or red: red first, then oldest first."""
    names = data.names
    late = Table("late_open", "Phiếu đang vàng/đỏ / open yellow and red tickets",
                 ["ticket", "level", "department", "assignee", "supplier", "age_hours",
                  "subject"])
    for r in sorted((r for r in data.rows if r.status not in CLOSED_STATUSES
                     and r.sla_level in ("yellow", "red")),
                    key=lambda r: (r.sla_level != "red", r.created_at)):
        late.rows.append([format_ref(data.prefix, r.id), r.sla_level,
                          _label("department", r.department, names, data.departments),
                          r.assignee or "", names.get(r.assigned_supplier_id or "", "")
                          if r.assigned_supplier_id else "",
                          _hours((data.now - r.created_at).total_seconds()), r.subject or ""])
    return late


def workload(data: ReportData) -> Table:
    work = Table("workload", "Khối lượng nhân viên / agents' workload",
                 ["agent", "open", "yellow", "red", "resolved", "csat_avg", "csat_answers"])
    agents: dict[str, list[Any]] = defaultdict(list)
    for r in data.rows:
        if r.assignee:
            agents[r.assignee].append(r)
    for key, members in sorted(agents.items()):
        open_ = [m for m in members if m.status not in CLOSED_STATUSES]
        rated = [m.csat for m in members if m.csat]
        work.rows.append([key, len(open_), sum(1 for m in open_ if m.sla_level == "yellow"),
                          sum(1 for m in open_ if m.sla_level == "red"),
                          sum(1 for m in members if m.status in CLOSED_STATUSES),
                          round(statistics.mean(rated), 2) if rated else None, len(rated)])
    return work


def satisfaction(data: ReportData) -> Table:
    """Answers to the satisfaction question by department, then supplier, then agent;
    satisfied is 4 or 5."""
    csat = Table("satisfaction", "Mức hài lòng / satisfaction (1–5)",
                 ["by", "value", "answers", "average", "satisfied_pct"])
    for dim in ("department", "supplier", "agent"):
        scores: dict[str, list[int]] = defaultdict(list)
        for r in data.rows:
            key = {"department": r.department, "supplier": r.assigned_supplier_id or "",
                   "agent": r.assignee or ""}[dim]
            if key and r.csat:
                scores[key].append(r.csat)
        for key, answers in sorted(scores.items()):
            csat.rows.append([dim, _label(dim, key, data.names, data.departments), len(answers),
                              round(statistics.mean(answers), 2),
                              _pct(sum(1 for v in answers if v >= 4), len(answers))])
    return csat


def holders(data: ReportData) -> Table:
    """Who held the complaints, in hours per category: each ticket's recorded waits on the
    supplier, the customer or the carrier (a wait still going counts up to now), and the
    platform for the rest of its life (until it was closed, or now)."""
    now = data.now
    held = Table("holders", "Ai giữ phiếu bao lâu (giờ) / who held complaints (hours)",
                 ["category", "tickets", "platform", "supplier", "customer", "carrier"])
    held_by: dict[str, Counter[str]] = defaultdict(Counter)
    counted: Counter[str] = Counter()
    for r in data.rows:
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
    return held


def totals(data: ReportData) -> dict[str, Any]:
    """The headline figures; the SLA hit rate counts each stop once (under its channel)."""
    rows, met = data.rows, data.met
    hit_all = sum(v for k, v in met.items() if k[0] == "channel" and k[2].endswith(":met"))
    miss_all = sum(v for k, v in met.items() if k[0] == "channel" and k[2].endswith(":missed"))
    rated_all = [r.csat for r in rows if r.csat]
    return {
        "tickets": len(rows),
        "complaints": sum(1 for r in rows if r.category != "inquiry"),
        "open": sum(1 for r in rows if r.status not in CLOSED_STATUSES),
        "yellow": sum(1 for r in rows if r.status not in CLOSED_STATUSES
                      and r.sla_level == "yellow"),
        "red": sum(1 for r in rows if r.status not in CLOSED_STATUSES and r.sla_level == "red"),
        "sla_hit_pct": _pct(hit_all, hit_all + miss_all),
        "csat_avg": round(statistics.mean(rated_all), 2) if rated_all else None,
    }
