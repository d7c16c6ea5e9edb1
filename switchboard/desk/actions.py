"""What people do to tickets, whatever tool they press the button in (Slack today, the
portal and the API next): assign, transfer, hand to the supplier, reclassify, set priority,
resolve, reopen; and the round-robin offer of a new ticket.

Each action changes the ticket and writes its journal entry (who, what, why) in the
caller's transaction, and says what changed so the caller can refresh what people see.
An action that would change nothing says so instead of writing a journal line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from router.assignment import Agent, Offer, choose, parse_shift
from router.routing import route
from router.rules import CATEGORIES, PRIORITIES, TOPICS
from switchboard.desk import supplier_mail, survey
from switchboard.settings import Settings
from switchboard.ticket_rules.classification import routing_table
from switchboard.ticket_rules.sla_keeper import keeper_for
from tickets import corrections, store
from tickets.schema import assignment_cursor, tickets
from tickets.store import CLOSED_STATUSES, OPEN_STATUSES, JournalEntry, TicketHead


class ActionRefused(Exception):
    """An action that cannot be done, with a reason to show the person who asked."""


@dataclass(frozen=True, slots=True)
class Done:
    ticket_id: int
    summary: str  # one line for the person, e.g. "assigned to lan"
    moved_from: str | None = None  # a transfer: the department it left


def agents_of(settings: Settings) -> list[Agent]:
    return [Agent(a.name, frozenset(a.departments), frozenset(a.skills), a.max_open,
                  parse_shift(a.shift)) for a in settings.agents]


def open_counts(conn: Connection, names: list[str]) -> dict[str, int]:
    if not names:
        return {}
    rows = conn.execute(
        select(tickets.c.assignee, func.count())
        .where(tickets.c.assignee.in_(names), tickets.c.status.in_(OPEN_STATUSES))
        .group_by(tickets.c.assignee)).all()
    return {name: int(count) for name, count in rows}


def offer(conn: Connection, settings: Settings, ticket_id: int, department: str,
          category: str, now: datetime) -> JournalEntry | None:
    """Round-robin: assign the new ticket to the next eligible agent of its department."""
    agents = agents_of(settings)
    if not agents:
        return None
    last = conn.execute(select(assignment_cursor.c.last_agent).where(
        assignment_cursor.c.department == department)).scalar()
    counts = open_counts(conn, [a.name for a in agents if department in a.departments])
    chosen: Offer = choose(agents, department, category, now.astimezone(settings.zone),
                           counts, last)
    if chosen.agent is None:
        return JournalEntry("unassigned", chosen.reason)
    conn.execute(update(tickets).where(tickets.c.id == ticket_id)
                 .values(assignee=chosen.agent))
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(insert(assignment_cursor).values(department=department,
                                                  last_agent=chosen.agent)
                 .on_conflict_do_update(index_elements=["department"],
                                        set_={"last_agent": chosen.agent}))
    return JournalEntry("assigned", chosen.reason, data={"assignee": chosen.agent})


def _head(conn: Connection, ticket_id: int) -> TicketHead:
    head = store.get_head(conn, ticket_id)
    if head is None:
        raise ActionRefused("this ticket no longer exists")
    return head


def _journal(conn: Connection, ticket_id: int, now: datetime,
             entries: list[JournalEntry]) -> None:
    if entries:
        store.append_journal(conn, ticket_id, now, entries)


def _apply(conn: Connection, ticket_id: int, now: datetime, values: dict[str, object],
           entry: JournalEntry) -> None:
    store.update_ticket(conn, ticket_id, {**values, "updated_at": now})
    store.append_journal(conn, ticket_id, now, [entry])


def assign(conn: Connection, ticket_id: int, agent: str, actor: str, now: datetime) -> Done:
    _head(conn, ticket_id)
    current = conn.execute(select(tickets.c.assignee).where(tickets.c.id == ticket_id)).scalar()
    if current == agent:
        raise ActionRefused(f"already assigned to {agent}")
    _apply(conn, ticket_id, now, {"assignee": agent}, JournalEntry(
        "assigned", f"{actor} assigned it to {agent}" + (f" (was {current})" if current else ""),
        actor=actor, data={"assignee": agent, "previous": current}))
    return Done(ticket_id, f"assigned to {agent}")


def transfer(conn: Connection, settings: Settings, ticket_id: int, department: str,
             actor: str, now: datetime) -> Done:
    head = _head(conn, ticket_id)
    if department not in settings.routing.departments:
        raise ActionRefused(f"unknown department {department}")
    if head.department == department:
        raise ActionRefused(f"already in {department}")
    _apply(conn, ticket_id, now, {"department": department, "assignee": None}, JournalEntry(
        "transferred", f"{actor} transferred it from {head.department} to {department}",
        actor=actor, data={"from": head.department, "to": department}))
    entry = keeper_for(settings).reclassified(conn, ticket_id, None, actor)
    if entry is not None:  # a desk with its own SLA policy (the privacy desk's deadlines)
        _journal(conn, ticket_id, now, [entry])
    return Done(ticket_id, f"transferred to {settings.routing.departments[department].name}",
                moved_from=head.department)


def hand_to_supplier(conn: Connection, settings: Settings, ticket_id: int, actor: str,
                     now: datetime) -> Done:
    head = _head(conn, ticket_id)
    if not head.supplier_id:
        raise ActionRefused("the ticket has no supplier yet: reclassify or name it first")
    _apply(conn, ticket_id, now, {"assigned_supplier_id": head.supplier_id,
                                  "status": "pending_supplier",
                                  "supplier_done_at": None}, JournalEntry(
        "assigned", f"{actor} handed it to supplier {head.supplier_id}", actor=actor,
        data={"supplier_id": head.supplier_id}))
    keeper = keeper_for(settings)
    keeper.handed_to_supplier(conn, ticket_id, now)
    _journal(conn, ticket_id, now, keeper.status_changed(conn, ticket_id, head.status,
                                                         "pending_supplier", actor, now))
    supplier_mail.handed_over(conn, settings, ticket_id, now)
    return Done(ticket_id, f"handed to supplier {head.supplier_id}")


def reclassify(conn: Connection, settings: Settings, ticket_id: int, category: str,
               topic: str | None, actor: str, now: datetime, via: str = "slack") -> Done:
    """A person's correction: the category (and topic) change and the ticket is routed
    again; rules-engine confidence becomes 1 (a person decided). The correction is kept as
    a labelled example (tickets/corrections.py)."""
    head = _head(conn, ticket_id)
    if category not in CATEGORIES or (topic is not None and topic not in TOPICS):
        raise ActionRefused(f"unknown category {category}/{topic}")
    topic = topic if category == "service" else None
    if (head.category, head.topic) == (category, topic):
        raise ActionRefused(f"already {category}")
    decided = route(routing_table(settings), category, topic, head.supplier_id)
    values: dict[str, object] = {"category": category, "topic": topic, "confidence": 1.0,
                                 "department": decided.department,
                                 "assigned_supplier_id": decided.assigned_supplier_id}
    if decided.department != head.department:
        values["assignee"] = None
    if decided.assigned_supplier_id is None or decided.assigned_supplier_id != conn.execute(
            select(tickets.c.assigned_supplier_id).where(tickets.c.id == ticket_id)).scalar():
        values["supplier_done_at"] = None  # a new supplier's part is not done yet
    was = head.category + (f"/{head.topic}" if head.topic else "")
    now_is = category + (f"/{topic}" if topic else "")
    _apply(conn, ticket_id, now, values, JournalEntry(
        "reclassified", f"{actor} changed {was} to {now_is}; " + "; ".join(decided.reasons),
        actor=actor, data={"from": was, "to": now_is, "department": decided.department}))
    corrections.record(conn, ticket_id, category, topic, actor, via, now)
    entry = keeper_for(settings).reclassified(conn, ticket_id, None, actor)
    if entry is not None:
        _journal(conn, ticket_id, now, [entry])
    return Done(ticket_id, f"reclassified as {now_is}",
                moved_from=head.department if decided.department != head.department else None)


def set_priority(conn: Connection, ticket_id: int, priority: str, actor: str,
                 now: datetime) -> Done:
    _head(conn, ticket_id)
    if priority not in PRIORITIES:
        raise ActionRefused(f"unknown priority {priority}")
    current = conn.execute(select(tickets.c.priority).where(tickets.c.id == ticket_id)).scalar()
    if current == priority:
        raise ActionRefused(f"priority is already {priority}")
    _apply(conn, ticket_id, now, {"priority": priority}, JournalEntry(
        "priority_changed", f"{actor} set priority {current} → {priority}", actor=actor,
        data={"from": current, "to": priority}))
    return Done(ticket_id, f"priority {priority}")


WAIT_STATUSES = ("open", "pending_customer", "pending_supplier", "pending_carrier")


def set_status(conn: Connection, settings: Settings, ticket_id: int, status: str, actor: str,
               now: datetime) -> Done:
    """Who holds the ticket now: us (open), or the customer, the supplier or the carrier
    (which pauses the SLA clocks the configuration says)."""
    head = _head(conn, ticket_id)
    if status not in WAIT_STATUSES:
        raise ActionRefused(f"unknown status {status}")
    if head.status in CLOSED_STATUSES:
        raise ActionRefused(f"it is {head.status}: reopen it first")
    if head.status == status:
        raise ActionRefused(f"already {status}")
    _apply(conn, ticket_id, now, {"status": status}, JournalEntry(
        "status_changed", f"{actor}: {head.status} → {status}", actor=actor,
        data={"from": head.status, "to": status}))
    _journal(conn, ticket_id, now, keeper_for(settings).status_changed(
        conn, ticket_id, head.status, status, actor, now))
    return Done(ticket_id, f"status {status}")


def resolve(conn: Connection, settings: Settings, ticket_id: int, actor: str,
            now: datetime, secret: bytes | None = None) -> Done:
    """Resolved; with `secret` (to sign an email's Reply-To) the customer is asked how
    satisfied they are."""
    head = _head(conn, ticket_id)
    if head.status in CLOSED_STATUSES:
        raise ActionRefused(f"already {head.status}")
    _apply(conn, ticket_id, now, {"status": "resolved", "closed_at": now}, JournalEntry(
        "status_changed", f"{actor} resolved it ({head.status} → resolved)", actor=actor,
        data={"from": head.status, "to": "resolved"}))
    _journal(conn, ticket_id, now, keeper_for(settings).status_changed(
        conn, ticket_id, head.status, "resolved", actor, now))
    if secret is not None:
        asked = survey.ask(conn, settings, secret, ticket_id, now)
        if asked is not None:
            _journal(conn, ticket_id, now, [asked])
    return Done(ticket_id, "resolved")


def reopen(conn: Connection, settings: Settings, ticket_id: int, actor: str,
           now: datetime) -> Done:
    head = _head(conn, ticket_id)
    if head.status not in CLOSED_STATUSES:
        raise ActionRefused(f"it is {head.status}, not closed")
    _apply(conn, ticket_id, now, {"status": "open", "closed_at": None}, JournalEntry(
        "status_changed", f"{actor} reopened it ({head.status} → open)", actor=actor,
        data={"from": head.status, "to": "open"}))
    _journal(conn, ticket_id, now, keeper_for(settings).status_changed(
        conn, ticket_id, head.status, "open", actor, now))
    return Done(ticket_id, "reopened")


def record_first_response(conn: Connection, settings: Settings, ticket_id: int, actor: str,
                          now: datetime) -> bool:
    """A person answered the customer: the response timers stop (met or missed), and the
    first answer is recorded as such; True the first time only."""
    _journal(conn, ticket_id, now, keeper_for(settings).answered(conn, ticket_id, actor, now))
    changed = conn.execute(update(tickets).where(tickets.c.id == ticket_id,
                                                 tickets.c.first_response_at.is_(None))
                           .values(first_response_at=now)).rowcount
    if changed:
        store.append_journal(conn, ticket_id, now, [JournalEntry(
            "first_response", f"first response to the customer by {actor}", actor=actor)])
    return bool(changed)
