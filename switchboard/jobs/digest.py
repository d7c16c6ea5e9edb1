"""The managers' daily digest in Slack: yesterday's tickets, SLA, late tickets, the
suppliers with the most complaints and satisfaction, from the same `reports` the dashboard
draws. Sent once per day (a row in `alerts_sent`, so several workers agree), through the
outbox."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from switchboard.insight import reports
from switchboard.jobs.spikes import recipients
from switchboard.settings import Settings
from tickets import outbox
from tickets.database import Database
from tickets.messages import Channel, OutboundMessage, customer_channels
from tickets.schema import alerts_sent


def compose(report: reports.Report, day: date, link: str) -> str:
    t = report.totals
    met = "—" if t["sla_hit_pct"] is None else f"{t['sla_hit_pct']}%"
    lines = [f"📊 *Tổng kết ngày / daily digest {day:%d/%m/%Y}*",
             f"Phiếu mới / new tickets: *{t['tickets']}* (khiếu nại / complaints "
             f"{t['complaints']}), còn mở / still open {t['open']}",
             f"Đúng hạn / SLA met: *{met}* · vàng / yellow {t['yellow']} · đỏ / red {t['red']}",
             f"Hài lòng / satisfaction: {'—' if t['csat_avg'] is None else t['csat_avg']}/5"]
    by_channel = {row[0]: row for row in report.tables["per_day"].rows}
    columns = report.tables["per_day"].columns
    if day.isoformat() in by_channel:
        row = by_channel[day.isoformat()]
        parts = [f"{c} {v}" for c, v in zip(columns[1:], row[1:], strict=False)
                 if not c.startswith("cat:") and c != "total" and v]
        if parts:
            lines.append("Theo kênh / by channel: " + ", ".join(parts))
    top = report.tables["top_suppliers"].rows[:3]
    if top:
        lines.append("NCC bị khiếu nại nhiều nhất / most complaints: "
                     + ", ".join(f"{r[0]} ({r[1]})" for r in top))
    late = report.tables["late_open"].rows[:5]
    if late:
        lines.append("Trễ / late: " + ", ".join(f"{r[0]} ({r[1]}, {r[3] or r[2]})"
                                                for r in late))
    lines.append(f"Chi tiết / details: {link}")
    return "\n".join(lines)


def send(settings: Settings, db: Database, now: datetime) -> bool:
    """Yesterday's digest (local days), once; False if it was sent already or has nowhere
    to go."""
    targets = list(recipients(settings, settings.dashboard.digest.slack_channel))
    if not targets:
        return False
    day = now.astimezone(settings.zone).date() - timedelta(days=1)
    departments = {k: d.name for k, d in settings.routing.departments.items()}
    with db.read() as conn:
        report = reports.build(conn, reports.Filters(day, day), settings.zone,
                               settings.tickets.ref_prefix, now, sorted(customer_channels()),
                               departments)
    link = (f"{settings.portal.base_url.rstrip('/')}/dashboard?since={day.isoformat()}"
            f"&until={day.isoformat()}")
    text = compose(report, day, link)
    with db.write() as conn:
        try:
            with conn.begin_nested():
                conn.execute(insert(alerts_sent).values(key=f"digest:{day.isoformat()}",
                                                        at=now))
        except IntegrityError:
            return False
        for target in targets:
            outbox.enqueue(conn, ticket_id=None, message=OutboundMessage(
                Channel.SLACK, target, text, "", automatic=True, thread={"op": "dm"}),
                kind="slack_digest", now=now)
    return True
