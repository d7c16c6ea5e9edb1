"""A saved reply filled in for one ticket, whoever sends it (the Slack form, `/reply`, the
API): what the ticket offers the texts, and the language to answer in.

* `customer.name`: the customer's name as we know it (followed through merges).
* `order`: the order the conversation names — an order code written in the customer's
  messages that is in the catalogue, the ticket's supplier's first, else the latest
  mentioned. A ticket whose messages name no known order has no `order`: we never guess
  one from the customer's other purchases.
* `supplier.name`: the supplier holding the ticket, else the one it is about, else the
  order's.
* `deadline`: the resolution SLA timer's due time (none without an SLA policy).
* `agent.name`: the agent's `display_name` from `agents:`, else their name.
* The language: the customer's latest message's own (`language` in its metadata, as
  Telegram gives it), else detected from its text as acknowledgements do; Vietnamese when
  there is no customer message or it is neither.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from router.language import detect_language
from switchboard.outbox.saved_replies import Facts, Rendered, SavedReplies
from switchboard.settings import Settings
from switchboard.ticket_rules.sla_keeper import keeper_for
from tickets.catalog import orders_by_code
from tickets.refs import format_ref
from tickets.schema import customers, messages, suppliers, tickets


class NoSuchTicket(Exception):
    pass


def language_of(conn: Connection, ticket_id: int) -> str:
    row = conn.execute(
        select(messages.c.text, messages.c.subject, messages.c.meta)
        .where(messages.c.ticket_id == ticket_id, messages.c.direction == "in",
               messages.c.author_kind == "customer")
        .order_by(messages.c.id.desc()).limit(1)).first()
    if row is None:
        return "vi"
    lang = str((row.meta or {}).get("language") or "")[:2].lower() or \
        detect_language(f"{row.subject or ''}\n{row.text}")
    return lang if lang in ("vi", "en") else "vi"


def agent_name(settings: Settings, name: str) -> str:
    for agent in settings.agents:
        if agent.name == name:
            return agent.display_name or agent.name
    return name


def _customer_name(conn: Connection, customer_id: int) -> str | None:
    for _ in range(5):  # merged customers point at the one kept
        row = conn.execute(select(customers.c.name, customers.c.merged_into)
                           .where(customers.c.id == customer_id)).first()
        if row is None:
            return None
        if row.merged_into is None:
            name = str(row.name or "").strip()
            return name or None
        customer_id = int(row.merged_into)
    return None


def _named_order(conn: Connection, ticket_id: int, supplier_id: str | None
                 ) -> tuple[str, str, str] | None:
    """(code, supplier id, product) of the order the customer's messages name."""
    rows = conn.execute(select(messages.c.text, messages.c.meta).where(
        messages.c.ticket_id == ticket_id, messages.c.direction == "in")
        .order_by(messages.c.id)).all()
    mentioned: list[str] = []
    for row in rows:
        words = [str(c).upper() for c in ((row.meta or {}).get("order_codes") or [])]
        words += [w.strip(".,;:!?()[]#\"'").upper() for w in row.text.split()]
        mentioned += [w for w in words if len(w) >= 5 and any(c.isdigit() for c in w)]
    if not mentioned:
        return None
    known = orders_by_code(conn, list(dict.fromkeys(mentioned))[-200:])
    latest_first = [c for c in reversed(mentioned) if c in known]
    if not latest_first:
        return None
    ours = [c for c in latest_first if known[c][0] == supplier_id]
    code = (ours or latest_first)[0]
    return code, known[code][0], known[code][1]


def facts_for(conn: Connection, settings: Settings, ticket_id: int, agent: str,
              now: datetime) -> Facts:
    """NoSuchTicket when the ticket is gone."""
    row = conn.execute(select(tickets.c.customer_id, tickets.c.supplier_id,
                              tickets.c.assigned_supplier_id, tickets.c.sla)
                       .where(tickets.c.id == ticket_id)).first()
    if row is None:
        raise NoSuchTicket(format_ref(settings.tickets.ref_prefix, ticket_id))
    order = _named_order(conn, ticket_id, row.assigned_supplier_id or row.supplier_id)
    supplier_id = row.assigned_supplier_id or row.supplier_id or (order[1] if order else None)
    supplier = None if supplier_id is None else conn.execute(
        select(suppliers.c.name).where(suppliers.c.id == supplier_id)).scalar()
    view = keeper_for(settings).view(row.sla, now) if row.sla else None
    resolution = ((view or {}).get("timers") or {}).get("resolution")
    return Facts(ticket_ref=format_ref(settings.tickets.ref_prefix, ticket_id),
                 customer_name=_customer_name(conn, int(row.customer_id)),
                 order_code=order[0] if order else None,
                 order_product=order[2] if order else None,
                 supplier_name=str(supplier) if supplier else None,
                 deadline=resolution["due"] if resolution else None,
                 agent_name=agent_name(settings, agent), zone=settings.zone)


def render_for_ticket(conn: Connection, settings: Settings, library: SavedReplies,
                      ticket_id: int, code: str, agent: str, now: datetime) -> Rendered:
    """The saved reply `code` filled in for the ticket, in the customer's language.
    UnknownReply, MissingVariable (nothing half-filled) or NoSuchTicket."""
    library.get(code)  # an unknown code says so before anything is read
    facts = facts_for(conn, settings, ticket_id, agent, now)
    return library.render(code, facts, language_of(conn, ticket_id))
