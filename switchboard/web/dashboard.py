"""The managers' dashboard: charts and tables from `reports`, filtered by date range,
department, channel and supplier; each table downloads as CSV with the same filters.

A manager whose `agents:` entry lists departments sees only those departments.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from switchboard.desk.accounts import Session
from switchboard.insight import reports
from switchboard.web import charts
from switchboard.web.pages import current, render, rt_of
from tickets.messages import Channel, customer_channels
from tickets.schema import suppliers

router = APIRouter(include_in_schema=False)
MAX_DAYS = 366


def _filters(request: Request, session: Session, since: str, until: str, department: str,
             channel: str, supplier: str) -> reports.Filters:
    rt = rt_of(request)
    today = rt.clock.now().astimezone(rt.settings.zone).date()
    try:
        end = date.fromisoformat(until) if until else today
        if not date(2000, 1, 14) <= end <= date(2200, 12, 31):
            raise HTTPException(422, "dates must be between 2000 and 2200")
        start = date.fromisoformat(since) if since else end - timedelta(days=13)
    except ValueError:
        raise HTTPException(422, "dates are YYYY-MM-DD") from None
    if not (date(2000, 1, 1) <= start and end <= date(2200, 12, 31)):
        raise HTTPException(422, "dates must be between 2000 and 2200")
    if start > end or (end - start).days >= MAX_DAYS:
        raise HTTPException(422, f"the range must be 1 to {MAX_DAYS} days, start before end")
    scope = session.user.departments
    if department and department not in rt.settings.routing.departments:
        raise HTTPException(422, f"unknown department {department!r}")
    if department and scope and department not in scope:
        raise HTTPException(403, "not one of your departments")
    if channel and channel not in customer_channels() | {Channel.PORTAL.value}:
        raise HTTPException(422, f"unknown channel {channel!r}")
    return reports.Filters(start, end, department or None, channel or None, supplier or None,
                           tuple(scope))


def _report(request: Request, session: Session, f: reports.Filters) -> reports.Report:
    rt = rt_of(request)
    departments = {k: d.name for k, d in rt.settings.routing.departments.items()}
    with rt.db.read() as conn:
        return reports.build(conn, f, rt.settings.zone, rt.settings.tickets.ref_prefix,
                             rt.clock.now(), sorted(customer_channels()), departments)


@router.get("/dashboard")
def dashboard(request: Request, since: str = "", until: str = "", department: str = "",
              channel: str = "", supplier: str = "") -> HTMLResponse:
    session = current(request, "manager")
    f = _filters(request, session, since, until, department, channel, supplier)
    report = _report(request, session, f)
    rt = rt_of(request)
    with rt.db.read() as conn:
        supplier_names = conn.execute(select(suppliers.c.id, suppliers.c.name)
                                      .order_by(suppliers.c.name)).all()
    sla_dept = report.tables["sla_by_department"]
    top = report.tables["top_suppliers"]
    chart = {
        "channel": charts.stacked_days("chart-channel", report.days, report.series["channel"]),
        "category": charts.stacked_days("chart-category", report.days,
                                        report.series["category"]),
        "sla": charts.hbars("chart-sla", [(r[0], r[4]) for r in sla_dept.rows], "%", 100),
        "suppliers": charts.hbars("chart-suppliers", [(r[0], r[1]) for r in top.rows[:10]]),
    }
    query = request.url.query
    departments = {k: d.name for k, d in rt.settings.routing.departments.items()
                   if not session.user.departments or k in session.user.departments}
    return render(request, "web/dashboard.html.j2", session=session, r=report, chart=chart,
                  query=query, departments=departments, channels=sorted(customer_channels()),
                  supplier_names=supplier_names, f=f)


@router.get("/dashboard/{table}.csv")
def export(request: Request, table: str, since: str = "", until: str = "",
           department: str = "", channel: str = "", supplier: str = "") -> Response:
    session = current(request, "manager")
    f = _filters(request, session, since, until, department, channel, supplier)
    report = _report(request, session, f)
    found = report.tables.get(table)
    if found is None:
        raise HTTPException(404, f"no table {table!r}")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(found.columns)
    for row in found.rows:
        writer.writerow(["" if v is None else _safe_cell(v) for v in row])
    name = f"{table}_{f.since.isoformat()}_{f.until.isoformat()}.csv"
    # a BOM so Excel opens Vietnamese text as UTF-8
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "no-store"})


def _safe_cell(value: object) -> object:
    """A cell starting with = + - @ would be a formula in a spreadsheet (customer text can
    be anything): quote it."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
