"""The SLA sweeper: every few seconds (APScheduler, one interval job, never overlapping),
take the tickets whose next SLA step is due — and only those, through the index on
`sla_next_at` — raise their levels, and tell people, each step exactly once.

Exactly once, also with several workers: the level change is a compare-and-set on
`sla_version`, so of two sweepers that read the same ticket only one writes; the journal
line, the SLA event and the notifications (outbox rows) are written in that same
transaction, so a crash between the level change and the notification loses nothing.
On PostgreSQL the rows are claimed with `FOR UPDATE SKIP LOCKED`, so sweepers do not even
wait on each other.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from sla import timers
from sla.policy import SUPPLIER_TIMERS, Policy
from switchboard.desk import slack_cards
from switchboard.desk.supplier_mail import supplier_addresses, ticket_link
from switchboard.insight import metrics
from switchboard.outbox.notices import email_notice
from switchboard.settings import AgentSettings, Settings
from switchboard.ticket_rules.sla_keeper import Keeper
from tickets import outbox, store
from tickets.clock import Clock
from tickets.database import Database
from tickets.messages import Channel, OutboundMessage
from tickets.refs import format_ref
from tickets.schema import sla_events, tickets
from tickets.store import JournalEntry

log = logging.getLogger("switchboard.sla")
KINDS = {1: "warning", 2: "breach"}
TIMER_LABELS = {"first_response": "phản hồi đầu / first response",
                "next_response": "phản hồi tiếp / next response",
                "resolution": "giải quyết / resolution",
                "supplier_first_response": "NCC phản hồi / supplier's first answer",
                "supplier_resolution": "NCC giải quyết / supplier's resolution"}


@dataclass(frozen=True, slots=True)
class Swept:
    looked_at: int
    escalated: int  # tickets that changed level
    steps: int  # level changes (a late sweep can pass yellow and red at once)
    conflicts: int  # tickets another sweeper changed first


class Sweeper:
    def __init__(self, settings: Settings, db: Database, clock: Clock, keeper: Keeper) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.keeper = keeper
        self.batch = settings.sla.batch_size

    @metrics.SLA_SWEEP_SECONDS.time()  # a failed sweep is observed too
    def sweep(self) -> Swept:
        """Everything due now, in batches; returns what was done."""
        total = Swept(0, 0, 0, 0)
        while True:
            done = self.sweep_batch()
            total = Swept(total.looked_at + done.looked_at, total.escalated + done.escalated,
                          total.steps + done.steps, total.conflicts + done.conflicts)
            if done.looked_at < self.batch:
                return total

    def sweep_batch(self) -> Swept:
        now = self.clock.now()
        escalated = steps_done = conflicts = 0
        with self.db.write() as conn:
            rows = conn.execute(
                select(tickets.c.id, tickets.c.sla, tickets.c.sla_version,
                       tickets.c.department, tickets.c.assignee,
                       tickets.c.assigned_supplier_id)
                .where(tickets.c.sla_next_at <= now)
                .order_by(tickets.c.sla_next_at).limit(self.batch)
                .with_for_update(skip_locked=True)).all()
            events: list[dict[str, Any]] = []
            journal: list[dict[str, object]] = []
            for row in rows:
                state = copy.deepcopy(dict(row.sla or {}))
                policy = self.keeper.policy_of(state) if state else None
                if policy is None:  # a policy removed from the config: stop looking
                    conn.execute(tickets.update().where(tickets.c.id == row.id)
                                 .values(sla_next_at=None))
                    continue
                steps = timers.escalate(state, policy, now)
                if not self.keeper.save(conn, row.id, state, version=row.sla_version):
                    conflicts += 1
                    continue
                if not steps:
                    continue
                escalated += 1
                steps_done += len(steps)
                for step in steps:
                    told = self._notify(conn, row, policy, step, now)
                    kind = KINDS.get(step.level, "escalation")
                    events.append({"ticket_id": row.id, "timer": step.timer,
                                   "level": step.level, "kind": kind, "due_at": step.due,
                                   "at": now, "data": {"told": told,
                                                       "late_seconds": step.late_seconds}})
                    journal += store.journal_rows(row.id, now, [JournalEntry(
                        "escalated", self._reason(step, told), data={
                            "timer": step.timer, "level": step.level, "told": told})])
                if steps:
                    slack_cards.refresh_card(conn, self.settings, row.id, now)
            if events:
                conn.execute(insert(sla_events), events)
                store.insert_journal(conn, journal)
        metrics.count_escalations(e["level"] for e in events)  # committed: counted once
        if escalated:
            log.info("SLA: %d ticket(s) escalated (%d steps)", escalated, steps_done)
        return Swept(len(rows), escalated, steps_done, conflicts)

    def _reason(self, step: timers.Escalation, told: list[str]) -> str:
        zone = self.settings.zone
        level = {1: "yellow", 2: "red"}.get(step.level, f"red (level {step.level})")
        late = f", {step.late_seconds / 3600:.1f} h late" if step.level >= 2 else ""
        who = f"; told {', '.join(told)}" if told else "; nobody to tell"
        return (f"{step.timer} turned {level}: due {step.due.astimezone(zone):%Y-%m-%d %H:%M}"
                f"{late}{who}")

    # -- who is told, and how ------------------------------------------------------------

    def _managers(self, department: str) -> list[AgentSettings]:
        return [a for a in self.settings.agents
                if a.role == "manager" and department in a.departments]

    def _notify(self, conn: Connection, row: Any, policy: Policy, step: timers.Escalation,
                now: datetime) -> list[str]:
        settings = self.settings
        ref = format_ref(settings.tickets.ref_prefix, row.id)
        label = TIMER_LABELS.get(step.timer, step.timer)
        due_local = step.due.astimezone(settings.zone).strftime("%d/%m %H:%M")
        agents = {a.name: a for a in settings.agents}
        told: list[str] = []
        if step.level == 1:
            if step.timer in SUPPLIER_TIMERS and row.assigned_supplier_id:
                told += self._email_supplier(conn, row, ref, label, due_local, now)
            owner = agents.get(row.assignee or "")
            mention = f"<@{owner.slack_user}>" if owner and owner.slack_user else "<!here>"
            slack_cards.to_thread(conn, settings, row.id, f"🟡 {ref}: {label} đến hạn lúc "
                                   f"{due_local} / due at {due_local} — {mention}", now)
            told.append(owner.name if owner else f"department {row.department}")
            return told
        if step.level == 2:
            people = self._managers(row.department)
        else:
            names = policy.ladder[step.level - 3].notify
            people = [a for n in names for a in
                      (self._managers(row.department) if n == "managers"
                       else [agents[n]] if n in agents else [])]
        late_h = step.late_seconds / 3600
        holder_vi = holder_en = row.assignee
        if step.timer in SUPPLIER_TIMERS and row.assigned_supplier_id:
            holder_vi = f"nhà cung cấp {row.assigned_supplier_id}"
            holder_en = f"supplier {row.assigned_supplier_id}"
        text = (f"🔴 {ref} trễ hạn {label} (hạn {due_local}, trễ {late_h:.1f} giờ; người giữ: "
                f"{holder_vi or 'chưa ai nhận'}) / {ref} is late for its {step.timer} "
                f"(due {due_local}, {late_h:.1f} h late; held by "
                f"{holder_en or 'nobody'})")
        for person in people:
            if person.slack_user and settings.slack.enabled:
                self._slack_dm(conn, row.id, person.slack_user, text, now)
            if person.email:
                self._email(conn, row.id, person.email, f"[SLA] {ref} trễ hạn / late", text,
                            now)
            told.append(person.name)
        mentions = " ".join(f"<@{p.slack_user}>" for p in people if p.slack_user)
        slack_cards.to_thread(conn, settings, row.id, f"{text} {mentions}".strip(), now)
        return told

    def _slack_dm(self, conn: Connection, ticket_id: int, user: str, text: str,
                  now: datetime) -> None:
        message = OutboundMessage(Channel.SLACK, user, text,
                                  format_ref(self.settings.tickets.ref_prefix, ticket_id),
                                  automatic=True, thread={"op": "dm"})
        outbox.enqueue(conn, ticket_id=ticket_id, message=message, kind="slack_dm", now=now)

    def _email(self, conn: Connection, ticket_id: int, to: str, subject: str, text: str,
               now: datetime) -> None:
        email_notice(conn, self.settings, ticket_id, to, subject, text, "sla_notice", now)

    def _email_supplier(self, conn: Connection, row: Any, ref: str, label: str,
                        due_local: str, now: datetime) -> list[str]:
        addresses = supplier_addresses(conn, row.assigned_supplier_id)
        link = ticket_link(self.settings, row.id)
        for address in addresses:
            self._email(conn, row.id, address, f"[{ref}] Nhắc hạn / reminder",
                        f"Phiếu {ref} cần nhà cung cấp {label} trước {due_local}: {link}\n"
                        f"(Ticket {ref} needs the supplier's {label} by {due_local}.)", now)
        return [f"supplier {row.assigned_supplier_id}"] if addresses else []
