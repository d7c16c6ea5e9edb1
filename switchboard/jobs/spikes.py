"""Alerts nobody asked for yet: complaints about one supplier, product or topic jumping
above their usual rate.

Every few minutes the last `window` (an hour) of complaints is counted per supplier, per
product (the order named in the complaint) and per service topic, and compared with the
average window over the `trailing` days before it. A count of at least `min_count` and
`factor` times the usual rate is a spike: the managers are told in Slack with the tickets
behind it. Each spike is told once per hour of its window (a row in `alerts_sent`, whose
primary key makes two workers agree), through the outbox like every Slack message.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from router import EntityExtractor, OrderCodePattern
from switchboard.settings import Settings
from tickets import outbox, queries
from tickets.database import Database
from tickets.messages import Channel, OutboundMessage
from tickets.refs import format_ref
from tickets.schema import alerts_sent, orders, suppliers, tickets

log = logging.getLogger("switchboard.spikes")
Key = tuple[str, str]  # ("supplier" | "product" | "topic", value)


@dataclass(frozen=True, slots=True)
class Spike:
    key: Key
    count: int
    usual: float  # complaints in an average window before
    tickets: tuple[int, ...]


def detect(recent: dict[Key, list[int]], trailing: Counter[Key], windows: float,
           factor: float, min_count: int) -> list[Spike]:
    """Pure: which keys jumped. `recent` holds the ticket ids of the window per key,
    `trailing` the complaint counts over `windows` earlier windows."""
    found = []
    for key, ids in recent.items():
        usual = trailing.get(key, 0) / windows if windows else 0.0
        if len(ids) >= min_count and len(ids) >= factor * usual:
            found.append(Spike(key, len(ids), usual, tuple(sorted(ids))))
    return sorted(found, key=lambda s: (-s.count, s.key))


def _keys(conn: Connection, rows: list[Any], extractor: EntityExtractor) -> dict[int, list[Key]]:
    """Each complaint's keys: its supplier, its service topic, and the products of the
    orders its first message names."""
    keys: dict[int, list[Key]] = defaultdict(list)
    codes: dict[int, list[str]] = {}
    for row in rows:
        if row.supplier_id:
            keys[row.id].append(("supplier", row.supplier_id))
        if row.topic:
            keys[row.id].append(("topic", row.topic))
        if row.category in ("product", "supplier") and row.text:
            codes[row.id] = list(extractor(row.text).order_codes)
    wanted = sorted({c for found in codes.values() for c in found})
    products = {}
    for i in range(0, len(wanted), 900):
        products.update(dict(conn.execute(select(orders.c.code, orders.c.product).where(
            orders.c.code.in_(wanted[i:i + 900]))).all()))
    for ticket_id, found in codes.items():
        for product in dict.fromkeys(products[c] for c in found if c in products):
            keys[ticket_id].append(("product", product))
    return keys


def _complaints(conn: Connection, since: datetime, until: datetime) -> list[Any]:
    """Customers' complaints opened in (since, until]: a check at `now` sees what opened
    at `now`."""
    first = queries.first_inbound_text()
    return list(conn.execute(
        select(tickets.c.id, tickets.c.category, tickets.c.topic, tickets.c.supplier_id,
               first.label("text"))
        .where(tickets.c.created_at > since, tickets.c.created_at <= until,
               tickets.c.category != "inquiry", tickets.c.sender_kind == "customer")).all())


class SpikeWatch:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.extractor = EntityExtractor([OrderCodePattern(o.pattern, o.template)
                                          for o in settings.entities.order_codes])

    def check(self, now: datetime) -> list[Spike]:
        """Look, and tell the managers about new spikes; returns the spikes told."""
        s = self.settings.dashboard.spikes
        start = now - s.window
        with self.db.read() as conn:
            recent_rows = _complaints(conn, start, now)
            if len(recent_rows) < s.min_count:
                return []
            before = _complaints(conn, start - s.trailing, start)
            recent_keys = _keys(conn, recent_rows, self.extractor)
            trailing_keys = _keys(conn, before, self.extractor)
        recent: dict[Key, list[int]] = defaultdict(list)
        for ticket_id, keys in recent_keys.items():
            for key in keys:
                recent[key].append(ticket_id)
        trailing: Counter[Key] = Counter(k for keys in trailing_keys.values() for k in keys)
        spikes = detect(recent, trailing, s.trailing / s.window, s.factor, s.min_count)
        told = []
        hour = now.replace(minute=0, second=0, microsecond=0).isoformat()
        for spike in spikes:
            with self.db.write() as conn:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(alerts_sent).values(
                            key=f"spike:{spike.key[0]}:{spike.key[1]}:{hour}"[:255], at=now))
                except IntegrityError:
                    continue  # told already (this hour, by this or another worker)
                self._tell(conn, spike, now)
            told.append(spike)
        if told:
            log.info("complaint spikes: %s",
                     ", ".join(f"{t.key[0]} {t.key[1]} ({t.count})" for t in told))
        return told

    def _tell(self, conn: Connection, spike: Spike, now: datetime) -> None:
        settings = self.settings
        kind, value = spike.key
        if kind == "supplier":
            value = conn.execute(select(suppliers.c.name).where(suppliers.c.id == value)
                                 ).scalar() or value
        label = {"supplier": "NCC / supplier", "product": "sản phẩm / product",
                 "topic": "chủ đề / topic"}[kind]
        refs = ", ".join(format_ref(settings.tickets.ref_prefix, t) for t in spike.tickets[:20])
        hours = settings.dashboard.spikes.window.total_seconds() / 3600
        text = (f"📈 Khiếu nại tăng đột biến / complaints jumped — {label}: *{value}*: "
                f"{spike.count} trong {hours:g} giờ qua / in the last {hours:g} h "
                f"(thường / usually {spike.usual:.1f}). Phiếu / tickets: {refs}")
        for recipient in recipients(settings, settings.dashboard.spikes.slack_channel):
            message = OutboundMessage(Channel.SLACK, recipient, text,
                                      format_ref(settings.tickets.ref_prefix, spike.tickets[-1]),
                                      automatic=True, thread={"op": "dm"})
            outbox.enqueue(conn, ticket_id=spike.tickets[-1], message=message,
                           kind="slack_alert", now=now)


def recipients(settings: Settings, channel: str) -> Iterable[str]:
    """The configured Slack channel, else each manager by direct message."""
    if not settings.slack.enabled:
        return []
    if channel:
        return [channel]
    return [a.slack_user for a in settings.agents if a.role == "manager" and a.slack_user]
