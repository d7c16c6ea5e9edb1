"""What a supplier does to the complaints handed to them, from the portal: answer the
customer, write to the complaint desk, propose a resolution, mark the complaint done on
their side; and what the desk does with a proposal.

Every query here is scoped by the supplier: a ticket another supplier holds is "not found",
exactly like a ticket that does not exist, so ids cannot be probed. The customer's personal
data is cut to what the supplier needs to act (their name and the order with this
supplier), never their other orders, identities or tickets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from switchboard.desk import actions as desk
from switchboard.desk import slack_cards, supplier_mail
from switchboard.desk.accounts import User
from switchboard.outbox.compose import compose_reply, record_outbound
from switchboard.settings import Settings
from switchboard.ticket_rules.sla_keeper import keeper_for
from switchboard.timefmt import for_people
from tickets import queries, store
from tickets.refs import format_ref
from tickets.schema import (
    customers,
    journal,
    messages,
    orders,
    proposals,
    tickets,
)
from tickets.store import CLOSED_STATUSES, JournalEntry

PROPOSAL_KINDS = {"refund": "Hoàn tiền / refund", "replacement": "Đổi hàng / replacement",
                  "re_service": "Phục vụ lại / re-service"}
MAX_TEXT = 5000


class NotYours(LookupError):
    """No such ticket for this supplier (whether it exists or not)."""


def _scope(supplier_id: str) -> Any:
    """Handed to the supplier, or raised by the supplier from the portal."""
    return or_(tickets.c.assigned_supplier_id == supplier_id,
               and_(tickets.c.sender_kind == "supplier", tickets.c.supplier_id == supplier_id))


def handed_to(conn: Connection, supplier_id: str, ticket_id: int) -> bool:
    """Whether the ticket is a complaint handed to this supplier (not one they raised)."""
    return conn.execute(select(tickets.c.id).where(
        tickets.c.id == ticket_id,
        tickets.c.assigned_supplier_id == supplier_id)).first() is not None


def list_tickets(conn: Connection, settings: Settings, supplier_id: str, which: str,
                 now: datetime) -> list[dict[str, Any]]:
    """`complaints` handed to the supplier and still open, `done` ones, or the supplier's
    own `requests` to the marketplace."""
    stmt = select(tickets.c.id, tickets.c.status, tickets.c.category, tickets.c.subject,
                  tickets.c.created_at, tickets.c.sla, tickets.c.sla_level,
                  tickets.c.supplier_done_at, customers.c.name.label("customer"),
                  queries.first_inbound_text().label("first_text"))
    stmt = stmt.join(customers, customers.c.id == tickets.c.customer_id)
    if which == "requests":
        stmt = stmt.where(tickets.c.sender_kind == "supplier",
                          tickets.c.supplier_id == supplier_id)
    else:
        stmt = stmt.where(tickets.c.assigned_supplier_id == supplier_id,
                          tickets.c.sender_kind != "supplier")
        done = or_(tickets.c.status.in_(CLOSED_STATUSES), tickets.c.supplier_done_at.is_not(None))
        stmt = stmt.where(done if which == "done" else ~done)
    rows = conn.execute(stmt.order_by(tickets.c.id.desc()).limit(200)).all()
    keeper = keeper_for(settings)
    out = []
    for row in rows:
        first = row.first_text or ""
        out.append({"id": row.id, "ref": format_ref(settings.tickets.ref_prefix, row.id),
                    "status": row.status, "category": row.category,
                    "subject": row.subject or first[:80], "customer": row.customer or "",
                    "created": for_people(row.created_at, settings.zone),
                    "level": row.sla_level, "deadline": _supplier_deadline(
                        keeper.view(row.sla, now)), "done": row.supplier_done_at is not None})
    return out


def _supplier_deadline(view: dict[str, Any] | None) -> dict[str, Any] | None:
    """The clock the supplier should watch: theirs, else the ticket's resolution."""
    if not view:
        return None
    timers = view.get("timers", {})
    for name in ("supplier_first_response", "supplier_resolution", "resolution"):
        timer = timers.get(name)
        if timer and timer.get("left_seconds") is not None:
            return {"timer": name, **timer}
    return None


@dataclass(frozen=True, slots=True)
class TicketView:
    id: int
    ref: str
    status: str
    category: str
    subject: str
    customer_name: str
    orders: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    notes: list[dict[str, Any]]
    proposals: list[dict[str, Any]]
    sla: dict[str, Any] | None
    deadline: dict[str, Any] | None
    done: bool
    closed: bool
    raised_by_supplier: bool


def ticket_view(conn: Connection, settings: Settings, supplier_id: str, ticket_id: int,
                now: datetime) -> TicketView:
    row = conn.execute(select(tickets, customers.c.name.label("customer_name"))
                       .join(customers, customers.c.id == tickets.c.customer_id)
                       .where(tickets.c.id == ticket_id, _scope(supplier_id))).first()
    if row is None:
        raise NotYours(ticket_id)
    zone = settings.zone
    shown = conn.execute(
        select(messages.c.direction, messages.c.author, messages.c.author_kind,
               messages.c.text, messages.c.created_at, messages.c.channel, messages.c.meta)
        .where(messages.c.ticket_id == ticket_id).order_by(messages.c.id)).all()
    conversation = [{"direction": m.direction, "author": m.author if m.direction == "out"
                     or m.author_kind == "supplier" else (row.customer_name or "Khách hàng"),
                     "kind": m.author_kind, "text": m.text, "channel": m.channel,
                     "at": for_people(m.created_at, zone),
                     "delivery": (m.meta or {}).get("delivery")} for m in shown]
    notes = [{"actor": j.actor, "text": j.reason, "at": for_people(j.at, zone)}
             for j in conn.execute(select(journal.c.actor, journal.c.reason, journal.c.at,
                                          journal.c.data)
                                   .where(journal.c.ticket_id == ticket_id,
                                          journal.c.action.in_(["supplier_note",
                                                                "desk_to_supplier"]))
                                   .order_by(journal.c.id))
             # a ticket that moved between suppliers: each sees only its own exchange
             if (j.data or {}).get("supplier_id") == supplier_id]
    codes = {str(c) for m in shown for c in ((m.meta or {}).get("order_codes") or [])}
    found_orders = [{"code": o.code, "product": o.product, "amount": o.amount}
                    for o in conn.execute(select(orders.c.code, orders.c.product,
                                                 orders.c.amount)
                                          .where(orders.c.supplier_id == supplier_id,
                                                 orders.c.code.in_(sorted(codes))))] \
        if codes else []
    if not found_orders:
        found_orders = _orders_in_text(conn, supplier_id, [m.text for m in shown])
    offered = [{"id": p.id, "kind": PROPOSAL_KINDS.get(p.kind, p.kind), "amount": p.amount,
                "note": p.note, "status": p.status, "by": p.created_by,
                "at": for_people(p.created_at, zone), "decided_by": p.decided_by}
               for p in conn.execute(select(proposals).where(
                   proposals.c.ticket_id == ticket_id, proposals.c.supplier_id == supplier_id)
                   .order_by(proposals.c.id))]
    view = keeper_for(settings).view(row.sla, now)
    return TicketView(
        id=row.id, ref=format_ref(settings.tickets.ref_prefix, row.id), status=row.status,
        category=row.category, subject=row.subject or "",
        customer_name=row.customer_name or "Khách hàng", orders=found_orders,
        messages=conversation, notes=notes, proposals=offered, sla=view,
        deadline=_supplier_deadline(view), done=row.supplier_done_at is not None,
        closed=row.status in CLOSED_STATUSES,
        raised_by_supplier=row.sender_kind == "supplier")


def _orders_in_text(conn: Connection, supplier_id: str, texts: list[str]) -> list[dict[str, Any]]:
    """Order codes written in the messages that are this supplier's orders."""
    words = {w.strip(".,;:!?()[]").upper() for t in texts for w in t.split() if len(w) >= 5}
    words = {w for w in words if any(c.isdigit() for c in w)}  # order codes carry digits
    if not words:
        return []
    return [{"code": o.code, "product": o.product, "amount": o.amount}
            for o in conn.execute(select(orders.c.code, orders.c.product, orders.c.amount)
                                  .where(orders.c.supplier_id == supplier_id,
                                         orders.c.code.in_(sorted(words)[:900])))]


def _own(conn: Connection, supplier_id: str, ticket_id: int) -> Any:
    row = conn.execute(select(tickets.c.id, tickets.c.status, tickets.c.sender_kind,
                              tickets.c.supplier_done_at)
                       .where(tickets.c.id == ticket_id, _scope(supplier_id))).first()
    if row is None:
        raise NotYours(ticket_id)
    return row


def _actor(user: User) -> str:
    return f"{user.supplier_name or user.supplier_id} ({user.email})"


def _text(text: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise desk.ActionRefused("the text is empty")
    if len(cleaned) > MAX_TEXT:
        raise desk.ActionRefused(f"the text is longer than {MAX_TEXT} characters")
    return cleaned


def reply(conn: Connection, settings: Settings, secret: bytes, user: User, ticket_id: int,
          text: str, now: datetime) -> int:
    """The supplier answers the customer on the customer's channel, through the outbox.
    Returns the outbox id."""
    assert user.supplier_id is not None
    row = _own(conn, user.supplier_id, ticket_id)
    if row.sender_kind == "supplier":
        raise desk.ActionRefused("this is your own request: write to the desk instead")
    if row.status in CLOSED_STATUSES:
        raise desk.ActionRefused(f"the complaint is {row.status}")
    body = _text(text)
    message = compose_reply(conn, settings, secret, ticket_id, body, now=now)
    actor = _actor(user)
    _, outbox_id = record_outbound(conn, ticket_id=ticket_id, message=message, kind="reply",
                                   author=user.supplier_name or user.supplier_id, now=now)
    store.append_journal(conn, ticket_id, now, [JournalEntry(
        "replied", f"supplier {actor} answered the customer by {message.channel.value} "
        "from the portal", actor=actor, data={"outbox_id": outbox_id, "supplier": True})])
    keeper = keeper_for(settings)
    entries = keeper.answered(conn, ticket_id, actor, now, supplier=True)
    if entries:
        store.append_journal(conn, ticket_id, now, entries)
    desk.record_first_response(conn, settings, ticket_id, actor, now)
    store.update_ticket(conn, ticket_id, {"updated_at": now})
    slack_cards.to_thread(conn, settings, ticket_id,
                           f"📤 NCC *{actor}* → khách / customer:\n{body[:2800]}", now)
    slack_cards.refresh_card(conn, settings, ticket_id, now)
    return outbox_id


def note(conn: Connection, settings: Settings, user: User, ticket_id: int, text: str,
         now: datetime) -> None:
    """To the complaint desk only: journaled and shown in the Slack thread, never sent to
    the customer."""
    assert user.supplier_id is not None
    _own(conn, user.supplier_id, ticket_id)
    body = _text(text)
    actor = _actor(user)
    store.append_journal(conn, ticket_id, now, [JournalEntry(
        "supplier_note", body, actor=actor, data={"supplier_id": user.supplier_id})])
    store.update_ticket(conn, ticket_id, {"updated_at": now})
    slack_cards.to_thread(conn, settings, ticket_id,
                           f"🏪 NCC *{actor}* (nội bộ / internal):\n{body[:2800]}", now)


def propose(conn: Connection, settings: Settings, user: User, ticket_id: int, kind: str,
            amount: int, text: str, now: datetime) -> int:
    """A resolution for the desk to approve; the Slack thread gets Approve/Reject buttons."""
    assert user.supplier_id is not None
    row = _own(conn, user.supplier_id, ticket_id)
    if kind not in PROPOSAL_KINDS:
        raise desk.ActionRefused(f"unknown kind {kind!r}")
    if amount < 0 or amount > 1_000_000_000:
        raise desk.ActionRefused("the amount must be between 0 and 1,000,000,000 VND")
    if row.status in CLOSED_STATUSES:
        raise desk.ActionRefused(f"the complaint is {row.status}")
    body = text.strip()[:MAX_TEXT]
    actor = _actor(user)
    proposal_id = int(conn.execute(insert(proposals).values(
        ticket_id=ticket_id, supplier_id=user.supplier_id, kind=kind, amount=amount,
        note=body, status="proposed", created_by=actor, created_at=now)
    ).inserted_primary_key[0])  # type: ignore[index]
    label = PROPOSAL_KINDS[kind]
    store.append_journal(conn, ticket_id, now, [JournalEntry(
        "proposed", f"{actor} proposed {kind} of {amount:,} VND: {body}", actor=actor,
        data={"proposal_id": proposal_id, "kind": kind, "amount": amount})])
    store.update_ticket(conn, ticket_id, {"updated_at": now})
    slack_cards.to_thread(
        conn, settings, ticket_id,
        f"💡 NCC *{actor}* đề xuất / proposes: *{label}* {amount:,} VND\n{body[:2000]}", now,
        buttons=[("sb_proposal", f"{ticket_id}:approve-{proposal_id}", "Duyệt / Approve",
                  "primary"),
                 ("sb_proposal", f"{ticket_id}:reject-{proposal_id}", "Từ chối / Reject",
                  "danger")])
    return proposal_id


def decide(conn: Connection, settings: Settings, ticket_id: int, proposal_id: int,
           approve: bool, actor: str, now: datetime) -> desk.Done:
    """The desk approves or rejects a supplier's proposal (once)."""
    row = conn.execute(select(proposals).where(proposals.c.id == proposal_id,
                                               proposals.c.ticket_id == ticket_id)).first()
    if row is None:
        raise desk.ActionRefused("no such proposal")
    if row.status != "proposed":
        raise desk.ActionRefused(f"already {row.status} by {row.decided_by}")
    status = "approved" if approve else "rejected"
    conn.execute(update(proposals).where(proposals.c.id == proposal_id,
                                         proposals.c.status == "proposed")
                 .values(status=status, decided_by=actor, decided_at=now))
    store.append_journal(conn, ticket_id, now, [JournalEntry(
        "proposal_" + status, f"{actor} {status} the supplier's {row.kind} of "
        f"{row.amount:,} VND", actor=actor, data={"proposal_id": proposal_id})])
    supplier_mail.tell(conn, settings, ticket_id, row.supplier_id,
                   f"Đề xuất {PROPOSAL_KINDS.get(row.kind, row.kind)} {row.amount:,} VND đã được "
                   f"{'duyệt' if approve else 'từ chối'} / your proposal was {status}.", now)
    return desk.Done(ticket_id, f"{status} the supplier's {row.kind} ({row.amount:,} VND)")


def mark_done(conn: Connection, settings: Settings, user: User, ticket_id: int,
              text: str, now: datetime) -> None:
    """Done on the supplier's side: the supplier's clock stops and the ticket is back with
    the desk, who confirms with the customer and resolves it."""
    assert user.supplier_id is not None
    row = _own(conn, user.supplier_id, ticket_id)
    if row.supplier_done_at is not None:
        raise desk.ActionRefused("already marked done")
    if row.status in CLOSED_STATUSES:
        raise desk.ActionRefused(f"the complaint is {row.status}")
    actor = _actor(user)
    body = text.strip()[:MAX_TEXT]
    values: dict[str, object] = {"supplier_done_at": now, "updated_at": now}
    entries = [JournalEntry("supplier_done", f"{actor} marked it done on the supplier's side"
                            + (f": {body}" if body else ""), actor=actor)]
    keeper = keeper_for(settings)
    if row.status == "pending_supplier":
        values["status"] = "open"
        entries.append(JournalEntry("status_changed", f"{actor}: pending_supplier → open",
                                    actor=actor, data={"from": row.status, "to": "open"}))
    store.update_ticket(conn, ticket_id, values)
    store.append_journal(conn, ticket_id, now, entries)
    if row.status == "pending_supplier":
        store.append_journal(conn, ticket_id, now, keeper.status_changed(
            conn, ticket_id, row.status, "open", actor, now))
    store.append_journal(conn, ticket_id, now, keeper.supplier_done(conn, ticket_id, actor,
                                                                     now))
    slack_cards.to_thread(conn, settings, ticket_id,
                           f"✅ NCC *{actor}* báo đã xử lý xong / marked it done"
                           + (f":\n{body[:2000]}" if body else ""), now)
    slack_cards.refresh_card(conn, settings, ticket_id, now)


def tell_supplier(conn: Connection, settings: Settings, ticket_id: int, actor: str,
                  text: str, now: datetime) -> None:
    """The desk writes to the supplier: shown in the portal, emailed to their users."""
    row = conn.execute(select(tickets.c.assigned_supplier_id, tickets.c.supplier_id,
                              tickets.c.sender_kind).where(tickets.c.id == ticket_id)).first()
    supplier_id = row.assigned_supplier_id or (row.supplier_id if row.sender_kind == "supplier"
                                               else None) if row else None
    if supplier_id is None:
        raise desk.ActionRefused("the ticket is with no supplier")
    store.append_journal(conn, ticket_id, now, [JournalEntry(
        "desk_to_supplier", _text(text), actor=actor, data={"supplier_id": supplier_id})])
    supplier_mail.tell(conn, settings, ticket_id, supplier_id, text, now)


def counts(conn: Connection, supplier_id: str) -> dict[str, int]:
    """Open complaints and how many are late, for the portal's header."""
    rows = conn.execute(select(tickets.c.sla_level, func.count())
                        .where(tickets.c.assigned_supplier_id == supplier_id,
                               tickets.c.status.not_in(CLOSED_STATUSES),
                               tickets.c.supplier_done_at.is_(None))
                        .group_by(tickets.c.sla_level)).all()
    return {str(level): int(n) for level, n in rows}
