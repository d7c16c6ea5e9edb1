"""The bot on the dashboard: per day and channel, the questions it answered, how many of
those stayed answered (deflected: not handed to people within 24 hours of its answer),
hand-overs by reason, and how long customers waited for the first bot answer and for the
first person's answer. Read from the journal (`bot_answered`, `bot_handover`), so what is
counted is what happened to each ticket, not what the bot thought of itself."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from switchboard.insight.report_tables import ReportData, Table
from switchboard.ticket_rules.bot_state import REASONS
from tickets.schema import journal

DEFLECTION = timedelta(hours=24)
_ACTIONS = ("bot_answered", "bot_handover")


@dataclass(slots=True)
class _Ticket:
    answered_at: datetime | None = None
    handovers: list[tuple[datetime, str]] = field(default_factory=list)


def load_events(conn: Connection, ids: list[int]) -> dict[int, _Ticket]:
    found: dict[int, _Ticket] = defaultdict(_Ticket)
    for i in range(0, len(ids), 900):  # SQLite's bound-parameter limit
        for r in conn.execute(select(journal.c.ticket_id, journal.c.at, journal.c.action,
                                     journal.c.data)
                              .where(journal.c.ticket_id.in_(ids[i:i + 900]),
                                     journal.c.action.in_(_ACTIONS))
                              .order_by(journal.c.id)):
            t = found[int(r.ticket_id)]
            if r.action == "bot_answered" and t.answered_at is None:
                t.answered_at = r.at
            elif r.action == "bot_handover":
                t.handovers.append((r.at, str((r.data or {}).get("reason") or "")))
    return dict(found)


def bot_activity(data: ReportData, events: dict[int, _Ticket]) -> Table:
    reasons = list(REASONS)
    table = Table("bot", "Bot: trả lời, chuyển người / answers and hand-overs",
                  ["ngày / day", "kênh / channel", "bot trả lời / answered",
                   "giữ được 24h / deflected", *[f"chuyển / handover: {r}" for r in reasons],
                   "trả lời đầu (bot, giây) / first bot answer (s, median)",
                   "trả lời đầu (người, phút) / first human answer (min, median)"])
    counts: dict[tuple[Any, str], Counter[str]] = defaultdict(Counter)
    bot_waits: dict[tuple[Any, str], list[float]] = defaultdict(list)
    human_waits: dict[tuple[Any, str], list[float]] = defaultdict(list)
    for row in data.rows:
        t = events.get(row.id)
        if t is None:
            continue
        key = (row.created_at.astimezone(data.zone).date(), row.channel)
        for _, reason in t.handovers:
            counts[key][reason] += 1
        if t.answered_at is not None:
            counts[key]["answered"] += 1
            bot_waits[key].append((t.answered_at - row.created_at).total_seconds())
            later = [at for at, _ in t.handovers if at >= t.answered_at]
            if (later and later[0] - t.answered_at > DEFLECTION) or (
                    not later and data.now - t.answered_at >= DEFLECTION):
                counts[key]["deflected"] += 1
        if row.first_response_at is not None:
            human_waits[key].append((row.first_response_at - row.created_at).total_seconds()
                                    / 60)
    for key in sorted(counts, key=lambda k: (k[0], k[1])):
        c = counts[key]
        table.rows.append([key[0].isoformat(), key[1], c["answered"], c["deflected"],
                           *[c[r] for r in reasons], _median(bot_waits[key], 1),
                           _median(human_waits[key], 1)])
    return table


def _median(values: list[float], digits: int) -> float | None:
    return round(statistics.median(values), digits) if values else None
