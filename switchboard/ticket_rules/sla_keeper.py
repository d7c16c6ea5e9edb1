"""The SLA clocks kept in step with what happens to a ticket, in the same transaction as
the change: a new ticket starts them, an answer stops the response timers, a customer's
message restarts the next-response timer, a wait pauses what the configuration says,
resolving stops them all, reopening restarts the resolution clock, a new category
recomputes the deadlines under its policy, a hand-over starts the supplier's own timers.

Every change bumps `sla_version` and sets `sla_next_at`, the only column the sweeper
searches, so the sweeper's cost grows with the number of due tickets, not open ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, insert, select, update

from sla import timers
from sla.calendar import Calendar, parse_hours
from sla.policy import CUSTOMER_TIMERS, SUPPLIER_TIMERS, Conditions, Policy, Step, Warn, choose
from switchboard.settings import Settings, parse_duration
from tickets import store
from tickets.schema import sla_events, tickets
from tickets.store import JournalEntry

_CACHE: dict[int, Keeper] = {}


def keeper_for(settings: Settings) -> Keeper:
    """One keeper per settings object (policies and calendars are built once)."""
    found = _CACHE.get(id(settings))
    if found is None or found.settings is not settings:
        found = _CACHE[id(settings)] = Keeper(settings)
    return found


def _copy(state: Any) -> Any:
    """A deep copy of clocks: they are JSON (times as ISO text), and a JSON round trip
    copies them ten times faster than copy.deepcopy."""
    return orjson.loads(orjson.dumps(state))


def build_policies(settings: Settings) -> list[Policy]:
    calendars = {}
    for name, c in settings.sla.calendars.items():
        make_up = parse_hours({"mon": c.make_up_hours})[0]
        calendars[name] = Calendar(settings.zone, parse_hours(c.hours), always=c.always,
                                   country=c.country, days_off=frozenset(c.days_off),
                                   extra_working=frozenset(c.extra_working_days),
                                   make_up_hours=make_up, name=name)
    policies = []
    for p in settings.sla.policies:
        targets = {t: getattr(p, t).total_seconds() for t in
                   (*CUSTOMER_TIMERS, *SUPPLIER_TIMERS) if getattr(p, t) is not None}
        warn_text = p.warn.strip()
        warn = (Warn(fraction=float(warn_text[:-1]) / 100) if warn_text.endswith("%")
                else Warn(before_seconds=parse_duration(warn_text).total_seconds()))
        when = Conditions(frozenset(p.when.category), frozenset(p.when.topic),
                          frozenset(p.when.channel), frozenset(p.when.tier),
                          frozenset(p.when.priority), frozenset(p.when.department))
        ladder = tuple(Step(s.after.total_seconds(), s.notify) for s in p.ladder)
        policies.append(Policy(p.name, when, calendars[p.calendar], targets, warn, ladder))
    return policies


class Keeper:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.enabled = settings.sla.enabled and bool(settings.sla.policies)
        self.policies = build_policies(settings)
        self.by_name = {p.name: p for p in self.policies}
        # a batch opens its tickets at one `now`, most of them under a handful of policies:
        # their opening clocks are the same, so they are worked out once per batch
        self._opened_at: datetime | None = None
        self._opened: dict[tuple[str, bool, str | None], tuple[dict[str, Any],
                                                                JournalEntry]] = {}

    def warm_up(self, now: datetime) -> None:
        """Load this year's holidays for every calendar (the `holidays` package imports all
        its countries on first use: a fifth of a second) before the first message waits."""
        for policy in self.policies:
            policy.calendar.is_day_off(now.date())

    # -- reading and writing a ticket's clocks -------------------------------------------

    def _load(self, conn: Connection, ticket_id: int) -> tuple[Any, timers.State | None]:
        row = conn.execute(select(tickets.c.sla, tickets.c.sla_version, tickets.c.status,
                                  tickets.c.category, tickets.c.topic, tickets.c.channel,
                                  tickets.c.priority, tickets.c.assigned_supplier_id,
                                  tickets.c.department)
                           .where(tickets.c.id == ticket_id)).first()
        if row is None or not row.sla:
            return row, None
        return row, dict(row.sla)

    def columns(self, state: timers.State) -> dict[str, Any]:
        """The ticket columns that hold the clocks, for an INSERT or UPDATE."""
        policy = self.by_name.get(state["policy"])
        return {"sla": state, "sla_next_at": timers.next_at(state, policy) if policy else None,
                "sla_level": timers.overall(state)}

    def save(self, conn: Connection, ticket_id: int, state: timers.State,
             version: int | None = None) -> bool:
        """Write the clocks; with `version`, only if nobody changed them meanwhile."""
        stmt = update(tickets).where(tickets.c.id == ticket_id)
        if version is not None:
            stmt = stmt.where(tickets.c.sla_version == version)
        changed = conn.execute(stmt.values(**self.columns(state),
                                           sla_version=tickets.c.sla_version + 1)).rowcount
        return bool(changed)

    def policy_of(self, state: timers.State) -> Policy | None:
        return self.by_name.get(state["policy"])

    # -- what happens to tickets ---------------------------------------------------------

    def initial(self, facts: dict[str, str | None], supplier: bool, now: datetime
                ) -> tuple[dict[str, Any], JournalEntry | None]:
        """The clocks of a new ticket, as columns for its INSERT, and why."""
        if not self.enabled:
            return {}, None
        policy = choose(self.policies, facts)
        if policy is None:
            return {}, JournalEntry("sla", "no SLA policy matches this ticket")
        if now != self._opened_at:
            self._opened_at, self._opened = now, {}
        key = (policy.name, supplier, facts.get("tier"))
        known = self._opened.get(key)
        if known is None:
            known = self._opened[key] = self._initial(policy, facts, supplier, now)
        columns, entry = known
        return {**columns, "sla": _copy(columns["sla"])}, entry  # each ticket its own

    def _initial(self, policy: Policy, facts: dict[str, str | None], supplier: bool,
                 now: datetime) -> tuple[dict[str, Any], JournalEntry]:
        names: list[str] = ["first_response", "resolution"]
        if supplier:
            names += list(SUPPLIER_TIMERS)
        state = timers.new_state(policy, names, now)
        # kept for a later reclassification: the tier comes from the orders at opening, and
        # a VIP's complaint stays under the VIP policy whatever category it turns out to be
        state["tier"] = facts.get("tier")
        return self.columns(state), JournalEntry(
            "sla", f"policy {policy.name} ({policy.when.describe()}); "
            + self._dues(policy, state), data={"policy": policy.name})

    def follow_up(self, head_sla: Any, old_status: str, new_status: str,
                  now: datetime) -> tuple[dict[str, Any], list[JournalEntry]]:
        """A customer's follow-up joined the ticket (the pipeline's hot path: no I/O; the
        returned columns go into the UPDATE the pipeline makes anyway)."""
        if not head_sla:
            return {}, []
        state = _copy(head_sla)
        policy = self.policy_of(state)
        if policy is None:
            return {}, []
        entries = self._status(state, policy, old_status, new_status, "customer", now)
        if (state.get("pause") or {}).get("holder") == "customer":
            timers.resume(state, policy.calendar.between, now)
        first = state["timers"].get("first_response")
        if first is None or first["done"] is not None:
            current = state["timers"].get("next_response")
            if current is None or current["done"] is not None:
                timers.start_timer(state, policy, "next_response", now)
        return {**self.columns(state), "sla_version": store.Increment()}, entries

    def _dues(self, policy: Policy, state: timers.State) -> str:
        zone = self.settings.zone
        parts = [f"{name} due {timers.due(policy, t).astimezone(zone):%Y-%m-%d %H:%M}"
                 for name, t in state["timers"].items() if t["done"] is None]
        return ", ".join(parts) or "no timers"

    def answered(self, conn: Connection, ticket_id: int, actor: str, now: datetime,
                 supplier: bool = False) -> list[JournalEntry]:
        """A person answered the customer (or the supplier answered us)."""
        row, state = self._load(conn, ticket_id)
        policy = self.policy_of(state) if state else None
        if state is None or policy is None:
            return []
        names = ("supplier_first_response",) if supplier else ("first_response",
                                                               "next_response")
        entries = self._stop(conn, ticket_id, state, policy, names, actor, now)
        self.save(conn, ticket_id, state)
        return entries

    def _stop(self, conn: Connection, ticket_id: int, state: timers.State, policy: Policy,
              names: Iterable[str], actor: str, now: datetime) -> list[JournalEntry]:
        entries = []
        for name in names:
            stopped = timers.stop(state, policy, name, now)
            if stopped is None:
                continue
            kind = "met" if stopped.met else "missed"
            conn.execute(insert(sla_events).values(
                ticket_id=ticket_id, timer=name, level=0, kind=kind,
                due_at=timers.due(policy, state["timers"][name]), at=now,
                data={"actor": actor, "late_seconds": stopped.late_seconds}))
            late = f", {stopped.late_seconds / 3600:.1f} h late" if not stopped.met else ""
            entries.append(JournalEntry("sla", f"{name} {kind}{late}", actor=actor,
                                        data={"timer": name, "met": stopped.met}))
        return entries

    def status_changed(self, conn: Connection, ticket_id: int, old: str, new: str,
                       actor: str, now: datetime) -> list[JournalEntry]:
        row, state = self._load(conn, ticket_id)
        policy = self.policy_of(state) if state else None
        if state is None or policy is None or old == new:
            return []
        entries = self._status(state, policy, old, new, actor, now)
        if new in store.CLOSED_STATUSES:
            entries += self._stop(conn, ticket_id, state, policy, list(state["timers"]),
                                  actor, now)
        self.save(conn, ticket_id, state)
        return entries

    def _status(self, state: timers.State, policy: Policy, old: str, new: str, actor: str,
                now: datetime) -> list[JournalEntry]:
        """Pauses and resumes for waits, and the restart on reopening (no I/O)."""
        entries: list[JournalEntry] = []
        if old == new:
            return entries
        waits = self.settings.sla.waits
        pause = state.get("pause")
        if pause and new not in waits:
            waited = timers.resume(state, policy.calendar.between, now)
            entries.append(JournalEntry("sla", f"clock resumed after {waited / 3600:.1f} h "
                                        f"waiting on the {pause['holder']}", actor=actor))
        if new in waits:
            wait = waits[new]
            timers.pause(state, wait.holder, wait.pauses, now, policy.calendar.between)
            entries.append(JournalEntry("sla", f"waiting on the {wait.holder}: "
                                        f"{', '.join(wait.pauses) or 'no timer'} paused",
                                        actor=actor))
        if old in store.CLOSED_STATUSES and new not in store.CLOSED_STATUSES:
            timers.start_timer(state, policy, "resolution", now)
            state["acknowledged"] = None
            entries.append(JournalEntry("sla", "reopened: resolution clock restarted",
                                        actor=actor))
        return entries

    def handed_to_supplier(self, conn: Connection, ticket_id: int, now: datetime) -> None:
        row, state = self._load(conn, ticket_id)
        policy = self.policy_of(state) if state else None
        if state is None or policy is None:
            return
        for name in SUPPLIER_TIMERS:
            if name not in state["timers"]:
                timers.start_timer(state, policy, name, now)
        self.save(conn, ticket_id, state)

    def supplier_done(self, conn: Connection, ticket_id: int, actor: str,
                      now: datetime) -> list[JournalEntry]:
        """The supplier finished their part: their clocks stop (met or missed)."""
        row, state = self._load(conn, ticket_id)
        policy = self.policy_of(state) if state else None
        if state is None or policy is None:
            return []
        entries = self._stop(conn, ticket_id, state, policy, SUPPLIER_TIMERS, actor, now)
        self.save(conn, ticket_id, state)
        return entries

    def reclassified(self, conn: Connection, ticket_id: int, tier: str | None,
                     actor: str) -> JournalEntry | None:
        row, state = self._load(conn, ticket_id)
        if state is None or row is None:
            return None
        entry = self.repolicy(state, {"category": row.category, "topic": row.topic,
                                      "channel": row.channel, "priority": row.priority,
                                      "tier": tier, "department": row.department}, actor)
        if entry is not None:
            self.save(conn, ticket_id, state)
        return entry

    def repolicy(self, state: timers.State, facts: dict[str, str | None],
                 actor: str) -> JournalEntry | None:
        """Move `state` (in place) to the policy `facts` now choose, due times recomputed;
        None when the policy stays. `facts` without a tier take the one the ticket opened
        with. No I/O: the pipeline folds it into its UPDATE."""
        old = self.policy_of(state)
        if facts.get("tier") is None and state.get("tier"):
            facts = {**facts, "tier": state["tier"]}
        new = choose(self.policies, facts)
        if old is None or new is None or new.name == old.name:
            return None
        timers.recompute(state, old, new)
        return JournalEntry("sla", f"policy {old.name} → {new.name}: " + self._dues(new, state),
                            actor=actor, data={"policy": new.name})

    def acknowledge(self, conn: Connection, ticket_id: int, actor: str,
                    now: datetime) -> bool:
        row, state = self._load(conn, ticket_id)
        if state is None or state.get("acknowledged"):
            return False
        state["acknowledged"] = {"by": actor, "at": now.isoformat()}
        self.save(conn, ticket_id, state)
        return True

    # -- for people ----------------------------------------------------------------------

    def view(self, state: timers.State | None, now: datetime) -> dict[str, Any] | None:
        """Due times, time left and level of each timer, for the API and the Slack card."""
        policy = self.policy_of(state) if state else None
        if state is None or policy is None:
            return None
        paused = set((state.get("pause") or {}).get("timers", []))
        shown = {}
        for name, t in state["timers"].items():
            deadline = timers.due(policy, t)
            shown[name] = {
                "due": deadline, "level": timers.LEVEL_NAMES.get(min(t["level"], 2), "red"),
                "left_seconds": None if t["done"] or name in paused
                else int((deadline - now).total_seconds()),
                "paused": name in paused,
                "done": datetime.fromisoformat(t["done"]) if t["done"] else None,
                "met": t["met"]}
        return {"policy": policy.name, "timers": shown,
                "waiting_on": (state.get("pause") or {}).get("holder"),
                "waits_seconds": state.get("waits", {}),
                "acknowledged": state.get("acknowledged")}

    def explain(self, state: timers.State | None, now: datetime) -> list[str]:
        """How each due time was computed, in words (`switchboard sla explain`)."""
        policy = self.policy_of(state) if state else None
        if state is None or policy is None:
            return ["no SLA clocks on this ticket (no policy matched, or SLA is off)"]
        zone = self.settings.zone

        def local(when: datetime) -> str:
            return f"{when.astimezone(zone):%Y-%m-%d %H:%M %Z}"

        calendar = policy.calendar
        lines = [f"policy {policy.name}: chosen because {policy.when.describe()} "
                 f"(first match of {len(self.policies)})",
                 f"calendar {calendar.name}: "
                 + ("24/7" if calendar.always else "working hours only, public holidays "
                    f"of {calendar.country or 'no country'} skipped"),
                 f"warning {policy.warn.describe()}"]
        paused = set((state.get("pause") or {}).get("timers", []))
        for name, t in state["timers"].items():
            start = datetime.fromisoformat(t["start"])
            deadline = timers.due(policy, t)
            lines.append(
                f"{name}: started {local(start)}; target {t['target'] / 3600:g} working h"
                + (f" + {t['paused'] / 3600:.2f} h paused" if t["paused"] else "")
                + f" → due {local(deadline)} (warn {local(timers.warn_at(policy, t))})")
            skipped = calendar.skipped(start, deadline)
            if skipped:
                lines.append("  days skipped: " + "; ".join(skipped))
            status = ("met" if t["met"] else "missed") if t["done"] else \
                ("paused" if name in paused else
                 f"{(deadline - now).total_seconds() / 3600:+.2f} h left")
            lines.append(f"  level {timers.LEVEL_NAMES.get(min(t['level'], 2), 'red')}"
                         f" (step {t['level']}), {status}")
        pause = state.get("pause")
        if pause:
            lines.append(f"waiting on the {pause['holder']} since "
                         f"{local(datetime.fromisoformat(pause['since']))}")
        for holder, seconds in (state.get("waits") or {}).items():
            lines.append(f"held by the {holder} for {seconds / 3600:.2f} h in all")
        if state.get("acknowledged"):
            lines.append(f"acknowledged by {state['acknowledged']['by']}")
        return lines
