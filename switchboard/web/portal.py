"""The supplier portal: the complaints handed to the supplier, each with its deadline, the
customer's messages, and forms to answer the customer, write to the desk, propose a
resolution and mark it done; and a form to raise the supplier's own request.

Every lookup goes through `supplier_actions`, which scopes by the logged-in user's supplier:
another supplier's ticket is a plain 404, the same as a ticket that does not exist.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from switchboard.desk import actions as desk
from switchboard.desk import privacy, supplier_actions
from switchboard.desk.supplier_actions import PROPOSAL_KINDS, NotYours
from switchboard.outbox.compose import CannotReply
from switchboard.web.common import deliver, wake_dispatcher
from switchboard.web.pages import check_csrf, current, render, rt_of
from tickets.messages import Channel, InboundMessage
from tickets.refs import parse_ref
from tickets.schema import tickets

router = APIRouter(include_in_schema=False)

TABS = {"complaints": "Cần xử lý / to do", "done": "Đã xong / done",
        "requests": "Yêu cầu của bạn / your requests"}


@router.get("/portal")
def portal_home(request: Request, tab: str = "complaints") -> HTMLResponse:
    session = current(request, "supplier")
    user = session.user
    assert user.supplier_id is not None
    if tab not in TABS:
        tab = "complaints"
    rt = rt_of(request)
    now = rt.clock.now()
    with rt.db.read() as conn:
        rows = supplier_actions.list_tickets(conn, rt.settings, user.supplier_id, tab, now)
        counts = supplier_actions.counts(conn, user.supplier_id)
    return render(request, "web/portal_list.html.j2", session=session, user=user, rows=rows,
                  tab=tab, tabs=TABS, counts=counts)


def _ticket_id(ref: str) -> int:
    ticket_id = parse_ref(ref)
    if ticket_id is None:
        raise HTTPException(404, "no such complaint")
    return ticket_id


@router.get("/portal/tickets/{ref}")
def portal_ticket(request: Request, ref: str, flash: str = "") -> HTMLResponse:
    session = current(request, "supplier")
    assert session.user.supplier_id is not None
    rt = rt_of(request)
    with rt.db.read() as conn:
        try:
            view = supplier_actions.ticket_view(conn, rt.settings, session.user.supplier_id,
                                             _ticket_id(ref), rt.clock.now())
        except NotYours:
            raise HTTPException(404, "no such complaint") from None
        customer_id = conn.execute(select(tickets.c.customer_id).where(
            tickets.c.id == _ticket_id(ref))).scalar()
    privacy.record(rt.db, session.user.email, "portal", "ticket", customer_id, rt.clock.now(),
                   ticket=ref)
    return render(request, "web/portal_ticket.html.j2", session=session, user=session.user,
                  t=view, kinds=PROPOSAL_KINDS, flash=flash[:200])


@router.post("/portal/tickets/{ref}/{action}")
async def portal_action(request: Request, ref: str, action: str) -> Response:
    session = current(request, "supplier")
    form = await request.form()
    check_csrf(session, form)
    rt = rt_of(request)
    ticket_id = _ticket_id(ref)
    text = str(form.get("text") or "")
    now = rt.clock.now()
    user = session.user
    try:
        with rt.db.write() as conn:
            if action == "reply":
                supplier_actions.reply(conn, rt.settings, rt.secret, user, ticket_id, text, now)
                flash = "Đã gửi cho khách / sent to the customer"
            elif action == "note":
                supplier_actions.note(conn, rt.settings, user, ticket_id, text, now)
                flash = "Đã gửi bộ phận khiếu nại / sent to the complaint desk"
            elif action == "propose":
                amount_text = str(form.get("amount") or "0").replace(".", "").replace(",", "")
                if not re.fullmatch(r"[0-9]{1,10}", amount_text.strip()):
                    raise desk.ActionRefused("the amount must be a whole number of VND")
                supplier_actions.propose(conn, rt.settings, user, ticket_id,
                                      str(form.get("kind") or ""), int(amount_text), text, now)
                flash = "Đã gửi đề xuất / proposal sent for approval"
            elif action == "done":
                supplier_actions.mark_done(conn, rt.settings, user, ticket_id, text, now)
                flash = "Đã báo xong / marked done"
            else:
                raise HTTPException(404, "no such action")
    except NotYours:
        raise HTTPException(404, "no such complaint") from None
    except (desk.ActionRefused, CannotReply) as exc:
        flash = f"Không thực hiện được / not done: {exc}"
    wake_dispatcher(request)
    return RedirectResponse(f"/portal/tickets/{ref}?flash={_quote(flash)}", status_code=303)


@router.get("/portal/new")
def new_request_form(request: Request) -> HTMLResponse:
    session = current(request, "supplier")
    return render(request, "web/portal_new.html.j2", session=session, user=session.user,
                  error="")


@router.post("/portal/new")
async def new_request(request: Request) -> Response:
    """The supplier's own complaint to the marketplace: it goes through the inbox and the
    rules like any message (a registered supplier address makes it `supplier_platform`)."""
    session = current(request, "supplier")
    form = await request.form()
    check_csrf(session, form)
    subject = " ".join(str(form.get("subject") or "").split())[:200]
    text = str(form.get("text") or "").strip()
    if not text or len(text) > supplier_actions.MAX_TEXT:
        return render(request, "web/portal_new.html.j2", status_code=422, session=session,
                      user=session.user, error="Nội dung trống hoặc quá dài / the text is "
                      f"empty or longer than {supplier_actions.MAX_TEXT} characters")
    rt = rt_of(request)
    key = str(form.get("idempotency") or uuid.uuid4().hex)[:64]
    message = InboundMessage(channel=Channel.PORTAL,
                             external_id=f"portal:{session.user.id}:{key}",
                             sender=session.user.email, sender_name=session.user.name,
                             subject=subject or None, text=text, received_at=rt.clock.now(),
                             meta={"supplier_id": str(session.user.supplier_id)})
    await deliver(request, message)
    return RedirectResponse("/portal?tab=requests", status_code=303)


def _quote(text: str) -> str:
    return quote(text, safe="")
