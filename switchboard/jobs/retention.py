"""Retention: personal data kept no longer than needed (`privacy.retention`).

A ticket closed for longer than `closed_tickets` is anonymised as an erasure would (texts,
subjects, participants, files, Slack lines), keeping its anonymous row for statistics;
a customer all of whose tickets are anonymised, and who has been quiet as long, is erased
whole. Raw mail (`raw_mail`) may have a shorter life than the tickets: the stored .eml
files go, the texts stay on the tickets. Every run is written in the personal-data log,
so `switchboard privacy report` can say what was done and what is due.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, String, and_, cast, exists, func, or_, select, update

from switchboard.desk import privacy
from switchboard.settings import Settings
from switchboard.ticket_rules.bot_state import BOT_STATUS
from tickets import erasure, personal_data, search_index
from tickets.database import Database
from tickets.refs import format_ref
from tickets.schema import customers, identities, messages, personal_data_log, tickets
from tickets.store import CLOSED_STATUSES

log = logging.getLogger("switchboard.privacy")
PRIVACY_DESK = "privacy"


def sweep(db: Database, settings: Settings, now: datetime, actor: str = "retention"
          ) -> dict[str, int]:
    """Anonymise what is due, in batches of `batch_size` tickets per transaction."""
    policy = settings.privacy.retention
    done = {"tickets": 0, "customers": 0, "raw_mail": 0, "files": 0}
    if policy.closed_tickets is not None:
        cutoff = now - policy.closed_tickets
        while _tickets_batch(db, settings, cutoff, now, actor, done):
            pass
        while _customers_batch(db, settings, cutoff, now, actor, done):
            pass
    if policy.raw_mail is not None:
        while _raw_mail_batch(db, settings, now - policy.raw_mail, now, done):
            pass
    if any(done.values()):
        with db.write() as conn:
            search_index.purge(conn)
        db.scrub_free_space(privacy.TOUCHED, full=settings.privacy.vacuum_full)
        log.info("retention: %s", done)
    return done


def _due_tickets(cutoff: datetime) -> Any:
    """Closed before the cutoff; or answered by the bot and left so (nobody closes those:
    the customer just went away satisfied) with nothing since the cutoff."""
    closed = and_(tickets.c.closed_at < cutoff, tickets.c.status.in_(CLOSED_STATUSES))
    bot_only = and_(tickets.c.status == BOT_STATUS, tickets.c.updated_at < cutoff)
    return and_(tickets.c.anonymised_at.is_(None), or_(closed, bot_only))


def _tickets_batch(db: Database, settings: Settings, cutoff: datetime, now: datetime,
                   actor: str, done: dict[str, int]) -> bool:
    with db.write() as conn:
        rows = conn.execute(select(tickets.c.id, tickets.c.customer_id)
                            .where(_due_tickets(cutoff)).order_by(tickets.c.id)
                            .limit(settings.privacy.retention.batch_size)).all()
        by_customer: dict[int, list[int]] = defaultdict(list)
        for row in rows:
            by_customer[int(row.customer_id)].append(int(row.id))
        for customer_id, ticket_ids in by_customer.items():
            values = erasure.values_of(conn, [customer_id])
            result = erasure.Erasure(customer_id, [customer_id], ticket_ids)
            erasure.anonymise(conn, ticket_ids, values, actor,
                              f"anonymised: closed before {cutoff:%Y-%m-%d} "
                              "(privacy.retention.closed_tickets)", now, result)
            done["files"] += privacy.outside_rows(conn, settings, result, now)
            personal_data.log(conn, actor, "retention", "anonymise", customer_id, now,
                        {"tickets": len(ticket_ids), "messages": result.messages})
        done["tickets"] += len(rows)
    return len(rows) == settings.privacy.retention.batch_size


def _quiet_customers(cutoff: datetime) -> Any:
    """Customers with identities left, none of whose tickets is still kept, created
    before the cutoff."""
    kept = exists().where(tickets.c.customer_id == customers.c.id,
                          tickets.c.anonymised_at.is_(None))
    named = exists().where(identities.c.customer_id == customers.c.id)
    return and_(customers.c.merged_into.is_(None), customers.c.created_at < cutoff,
                named, ~kept)


def _customers_batch(db: Database, settings: Settings, cutoff: datetime, now: datetime,
                     actor: str, done: dict[str, int]) -> bool:
    with db.write() as conn:
        ids = [int(i) for i in conn.execute(
            select(customers.c.id).where(_quiet_customers(cutoff)).order_by(customers.c.id)
            .limit(settings.privacy.retention.batch_size)).scalars()]
        for customer_id in ids:
            result = erasure.erase_customer(conn, customer_id, actor, "retention",
                                            "retention time passed", now)
            if result is not None:
                done["files"] += privacy.outside_rows(conn, settings, result, now)
        done["customers"] += len(ids)
    return len(ids) == settings.privacy.retention.batch_size


def _raw_mail_due(cutoff: datetime) -> Any:
    return and_(messages.c.channel == "email", messages.c.created_at < cutoff,
                cast(messages.c.meta, String).contains('"raw_path"'))


def _raw_mail_batch(db: Database, settings: Settings, cutoff: datetime, now: datetime,
                    done: dict[str, int]) -> bool:
    with db.write() as conn:
        rows = conn.execute(select(messages.c.id, messages.c.meta)
                            .where(_raw_mail_due(cutoff)).order_by(messages.c.id)
                            .limit(settings.privacy.retention.batch_size)).all()
        paths = []
        for row in rows:
            meta = dict(row.meta or {})
            paths.append(str(meta.pop("raw_path")))
            meta["raw_deleted_at"] = now.isoformat()
            conn.execute(update(messages).where(messages.c.id == row.id).values(meta=meta))
        done["files"] += privacy.remove_files(paths, privacy.stores(settings))
        done["raw_mail"] += len(rows)
        if rows:
            personal_data.log(conn, "retention", "retention", "raw_mail", None, now,
                        {"messages": len(rows)})
    return len(rows) == settings.privacy.retention.batch_size


def report(conn: Connection, settings: Settings, now: datetime, days: int) -> dict[str, Any]:
    """What is due now, the data requests open on the privacy desk, what was done."""
    policy = settings.privacy.retention
    due: dict[str, Any] = {"closed_tickets": None, "raw_mail": None}
    if policy.closed_tickets is not None:
        due["closed_tickets"] = conn.execute(select(func.count()).where(
            _due_tickets(now - policy.closed_tickets))).scalar_one()
    if policy.raw_mail is not None:
        due["raw_mail"] = conn.execute(select(func.count()).where(
            _raw_mail_due(now - policy.raw_mail))).scalar_one()
    since = now - timedelta(days=days)
    done = conn.execute(select(personal_data_log.c.action, func.count())
                        .where(personal_data_log.c.at >= since)
                        .group_by(personal_data_log.c.action)).all()
    erasures = conn.execute(select(personal_data_log).where(
        personal_data_log.c.at >= since, personal_data_log.c.action == "erase")
        .order_by(personal_data_log.c.id)).all()
    requests = conn.execute(select(tickets.c.id, tickets.c.status, tickets.c.created_at,
                                   tickets.c.sla_level, tickets.c.sla_next_at)
                            .where(tickets.c.department == PRIVACY_DESK,
                                   tickets.c.status.not_in(CLOSED_STATUSES))
                            .order_by(tickets.c.created_at)).all()
    prefix = settings.tickets.ref_prefix
    return {
        "retention": {"closed_tickets": _days(policy.closed_tickets),
                      "raw_mail": _days(policy.raw_mail)},
        "due": due,
        "open_requests": [{"ticket": format_ref(prefix, r.id), "status": r.status,
                           "created_at": r.created_at, "sla_level": r.sla_level}
                          for r in requests],
        "done": {"days": days, **{action: count for action, count in done}},
        "erasures": [{"at": r.at, "actor": r.actor, "via": r.via,
                      "customer_id": r.customer_id,
                      "tickets": (r.detail or {}).get("tickets")} for r in erasures],
    }


def _days(value: timedelta | None) -> str | None:
    return None if value is None else f"{value.total_seconds() / 86400:g} days"


def describe(found: dict[str, Any], zone: ZoneInfo) -> str:
    """The report as an operator reads it (Vietnamese first)."""
    kept = found["retention"]
    lines = ["Lưu giữ / retention: phiếu đã đóng / closed tickets "
             f"{kept['closed_tickets'] or 'mãi mãi / for ever'}, thư gốc / raw mail "
             f"{kept['raw_mail'] or 'mãi mãi / for ever'}",
             f"Đến hạn / due now: {found['due']['closed_tickets'] or 0} phiếu / tickets, "
             f"{found['due']['raw_mail'] or 0} thư gốc / raw mails"]
    lines.append(f"Yêu cầu về dữ liệu đang mở / open data requests: "
                 f"{len(found['open_requests'])}")
    lines += [f"  {r['ticket']} {r['status']} {r['sla_level']} "
              f"{r['created_at'].astimezone(zone):%Y-%m-%d %H:%M}"
              for r in found["open_requests"]]
    done = {k: v for k, v in found["done"].items() if k != "days"}
    lines.append(f"Đã làm trong {found['done']['days']} ngày / done in "
                 f"{found['done']['days']} days: "
                 + (", ".join(f"{k} {v}" for k, v in sorted(done.items())) or "—"))
    lines += [f"  {e['at'].astimezone(zone):%Y-%m-%d %H:%M} erase #{e['customer_id']} "
              f"by {e['actor']} via {e['via']} ({e['tickets']} tickets)"
              for e in found["erasures"]]
    return "\n".join(lines)
