"""Email to a supplier's people: the hand-over of a complaint (with a link to it in the
portal) and the desk's messages. Addresses are the supplier's registered email contacts and
its portal users, each once."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Connection, bindparam, select

from sla import timers
from switchboard.outbox.notices import email_notice
from switchboard.outbox.templates import Templates
from switchboard.settings import Settings
from switchboard.ticket_rules.sla_keeper import keeper_for
from switchboard.timefmt import for_people
from tickets.fastsql import FastSelect
from tickets.refs import format_ref
from tickets.schema import messages, portal_users, supplier_contacts, suppliers, tickets


@lru_cache(maxsize=8)
def _templates(directory: str | None) -> Templates:
    return Templates(Path(directory) if directory else None)


def templates_for(settings: Settings) -> Templates:
    return _templates(settings.templates_dir)


# Asked for every complaint handed to a supplier, on the pipeline's hot path.
_CONTACT_EMAILS = FastSelect(select(supplier_contacts.c.value).where(
    supplier_contacts.c.supplier_id == bindparam("supplier_id"),
    supplier_contacts.c.kind == "email"))
_PORTAL_EMAILS = FastSelect(select(portal_users.c.email).where(
    portal_users.c.supplier_id == bindparam("supplier_id"),
    portal_users.c.disabled.is_(False)))
_HANDED_TICKET = FastSelect(
    select(tickets.c.assigned_supplier_id, tickets.c.sla, suppliers.c.name)
    .join(suppliers, suppliers.c.id == tickets.c.assigned_supplier_id)
    .where(tickets.c.id == bindparam("ticket_id")))
_FIRST_INBOUND = FastSelect(
    select(messages.c.text)
    .where(messages.c.ticket_id == bindparam("ticket_id"), messages.c.direction == "in")
    .order_by(messages.c.id).limit(1))


def supplier_addresses(conn: Connection, supplier_id: str) -> list[str]:
    params = {"supplier_id": supplier_id}
    found = [*_CONTACT_EMAILS.all(conn, params), *_PORTAL_EMAILS.all(conn, params)]
    return list(dict.fromkeys(row[0].lower() for row in found))


def ticket_link(settings: Settings, ticket_id: int) -> str:
    return (f"{settings.portal.base_url.rstrip('/')}/portal/tickets/"
            f"{format_ref(settings.tickets.ref_prefix, ticket_id)}")


def tell(conn: Connection, settings: Settings, ticket_id: int, supplier_id: str,
                   text: str, now: datetime) -> None:
    ref = format_ref(settings.tickets.ref_prefix, ticket_id)
    for address in supplier_addresses(conn, supplier_id):
        email_notice(conn, settings, ticket_id, address, f"[{ref}] Tin từ sàn / from the desk",
                     f"{text}\n\n{ticket_link(settings, ticket_id)}", "supplier_notice", now)


def handed_over(conn: Connection, settings: Settings, ticket_id: int, now: datetime) -> int:
    """The hand-over email to the supplier's contacts, with a link to the complaint; how
    many were written."""
    row = _HANDED_TICKET.first(conn, {"ticket_id": ticket_id})
    if row is None:
        return 0
    supplier_id, sla_state, supplier_name = row
    first = _FIRST_INBOUND.scalar(conn, {"ticket_id": ticket_id}) or ""
    state = sla_state or {}
    policy = keeper_for(settings).policy_of(state) if state else None

    def due(*names: str) -> str:
        for name in names:
            timer = state.get("timers", {}).get(name)
            if policy is not None and timer is not None:
                return for_people(timers.due(policy, timer), settings.zone)
        return "—"

    ref = format_ref(settings.tickets.ref_prefix, ticket_id)
    text = templates_for(settings).text(
        "email/supplier_handover", "vi", supplier_name=supplier_name, ref=ref,
        summary=" ".join(first.split())[:500],
        first_due=due("supplier_first_response", "first_response"),
        resolution_due=due("supplier_resolution", "resolution"),
        link=ticket_link(settings, ticket_id))
    addresses = supplier_addresses(conn, supplier_id)
    for address in addresses:
        email_notice(conn, settings, ticket_id, address,
                     f"[{ref}] Khiếu nại mới cần xử lý / new complaint", text, "handover", now)
    return len(addresses)
