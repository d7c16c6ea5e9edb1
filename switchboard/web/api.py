"""The JSON API: message intake, tickets, customers, health.

Intake answers 202 only after the message is committed to the durable inbox; a replay of the
same `(channel, external_id)` answers 200 `duplicate` and changes nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from switchboard.desk import answer, links, privacy
from switchboard.intake.message import (
    CONTENT,
    BadMessage,
    not_blank,
    parse_message,
    without_nul,
)
from switchboard.outbox.compose import CannotReply
from switchboard.outbox.saved_replies import ReplyError, UnknownReply
from switchboard.ticket_rules.sla_keeper import keeper_for
from switchboard.timefmt import localize
from switchboard.web.common import (
    Caller,
    deliver,
    problems,
    reachable,
    read_limited,
    runtime,
    ticket_id_of,
    wake_dispatcher,
)
from switchboard.web.contract import max_text
from switchboard.web.schemas import CustomerOut, Health, Queued, TicketDetailOut, TicketPage
from tickets import inbox, queries
from tickets.customers import Tier
from tickets.identities import normalize_email, normalize_phone

router = APIRouter()


@router.post("/api/messages", status_code=202, response_model=Queued,
             responses={200: {"model": Queued, "description": "a replay: queued before"},
                        **problems(400, 401, 413, 422)},
             tags=["intake"])
async def post_message(request: Request, response: Response, caller: Caller) -> Queued:
    """Queue one message `{"external_id", "channel", "from", "subject"?, "text"}`."""
    rt = runtime(request)
    raw = await read_limited(request, rt.settings.http.max_body_bytes)
    try:
        message = parse_message(raw, max_text(rt.settings))
        if not message.external_id:
            raise BadMessage("external_id: is required (the platform's id, the dedup key)")
        inbound = message.to_inbound(rt.clock.now())
    except BadMessage as exc:
        code = 400 if str(exc).startswith(("malformed", "body is not", "expected")) else 422
        raise HTTPException(code, str(exc)) from None

    created = await deliver(request, inbound)
    if not created:
        response.status_code = 200
    return Queued(status="queued" if created else "duplicate", channel=inbound.channel.value,
                  external_id=inbound.external_id)


Name = Annotated[str | None, Query(max_length=64)]


MAX_OFFSET = 1_000_000_000  # beyond any real list; SQLite's integers overflow far later


@router.get("/api/tickets", response_model=TicketPage, tags=["tickets"],
            responses=problems(401, 422))
def list_tickets(
    request: Request,
    caller: Caller,
    status_: Annotated[str | None, Query(alias="status", max_length=64)] = None,
    category: Name = None,
    topic: Name = None,
    department: Name = None,
    supplier: Name = None,
    channel: Name = None,
    sla: Annotated[str | None, Query(description="none, yellow or red", max_length=64)] = None,
    q: Annotated[str | None, Query(
        description="words in the subject or messages, with or without diacritics and in "
                    "any case; or a phone (any spelling), an email or an order code",
        max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    rt = runtime(request)
    # nothing stored holds NUL (PostgreSQL text cannot): one in a filter only removes itself
    f = queries.TicketFilter(
        status=without_nul(status_), category=without_nul(category),
        topic=without_nul(topic), department=without_nul(department),
        supplier_id=without_nul(supplier), channel=without_nul(channel),
        sla_level=without_nul(sla), text=without_nul(q), departments=caller.departments)
    with rt.db.read() as conn:
        page = queries.ticket_page(conn, rt.settings.tickets.ref_prefix, f, limit, offset)
    return {"items": localize(page.items, rt.settings.zone), "total": page.total,
            "more": page.more, "limit": limit, "offset": offset}


Ref = Annotated[str, Path(max_length=64, description="a ticket reference such as MC-12")]


@router.get("/api/tickets/{ref}", response_model=TicketDetailOut, tags=["tickets"],
            responses=problems(401, 404, 422))
def get_ticket(request: Request, ref: Ref, caller: Caller) -> dict[str, Any]:
    rt = runtime(request)
    ticket_id = ticket_id_of(ref)
    with rt.db.read() as conn:
        ticket = queries.get_ticket(conn, rt.settings.tickets.ref_prefix, ticket_id)
        related = links.links_of(conn, rt.settings.tickets.ref_prefix, ticket_id)
    if ticket is None or (caller.departments and ticket["department"] not in caller.departments):
        raise HTTPException(404, f"no ticket {ref}")
    ticket["sla"] = keeper_for(rt.settings).view(ticket.pop("sla_state"), rt.clock.now())
    ticket["links"] = related
    return dict(localize(ticket, rt.settings.zone))


class ReplyIn(BaseModel):
    """Exactly one of `text` (with `html` if wanted) and `saved`, a saved reply's code
    (`GET /api/replies`) filled in for the ticket (see `switchboard.web.replies`)."""
    model_config = ConfigDict(extra="forbid")
    # something to read: an answer of blanks would reach the customer as an empty message
    text: Annotated[str, not_blank("text is empty")] | None = Field(
        None, min_length=1, max_length=50_000, json_schema_extra={"pattern": CONTENT})
    html: str | None = Field(None, max_length=200_000)
    saved: str | None = Field(None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _text_or_saved(self) -> ReplyIn:
        given = {"text", "saved"} & self.model_fields_set
        if len(given) != 1:
            raise ValueError("give exactly one of text (an answer) and saved (a saved "
                             "reply's code)")
        if "saved" in given and "html" in self.model_fields_set:
            raise ValueError("html goes with text, not with a saved reply")
        if self.text is None and self.saved is None:
            raise ValueError(f"{given.pop()} must be a string")
        return self


class ReplyQueued(BaseModel):
    status: str
    ticket: str
    outbox_id: int


@router.post("/api/tickets/{ref}/replies", status_code=202, response_model=ReplyQueued,
             tags=["tickets"], responses=problems(400, 401, 404, 409, 422))
def reply(request: Request, ref: Ref, body: ReplyIn, caller: Caller) -> ReplyQueued:
    """Answer the customer on their channel; sent by the outbox, delivery shown on the
    ticket."""
    rt = runtime(request)
    if body.saved is not None:  # see switchboard.web.replies for the statuses
        try:
            rt.replies.get(body.saved)
        except UnknownReply as exc:
            raise HTTPException(422, f"saved: {exc}") from None
    ticket_id = ticket_id_of(ref)
    now = rt.clock.now()
    with rt.db.write() as conn:
        reachable(conn, caller, ticket_id, ref)
        try:
            sent = answer.send(conn, rt.settings, rt.secret, ticket_id, caller.name, now,
                               text=body.text or "", html=body.html, saved=body.saved,
                               replies=rt.replies)
        except ReplyError as exc:  # a variable the ticket lacks, named: nothing is sent
            raise HTTPException(409, str(exc)) from None
        except CannotReply as exc:
            raise HTTPException(409, str(exc)) from None
    wake_dispatcher(request)
    return ReplyQueued(status="queued", ticket=sent.ticket_ref, outbox_id=sent.outbox_id)


@router.get("/api/customers", response_model=CustomerOut, tags=["customers"],
            responses=problems(401, 404, 422))
def get_customer(
    request: Request, caller: Caller,
    phone: Annotated[str | None, Query(max_length=64, description="in any spelling")] = None,
    email: Annotated[str | None, Query(max_length=320)] = None,
) -> dict[str, Any]:
    """The customer with this phone and/or this email (both given: the customer who has
    both). A lookup that names nobody finds nobody: 404, saying why."""
    rt = runtime(request)
    given: list[tuple[str, str]] = []
    for kind, raw, normal in (("phone", phone, normalize_phone), ("email", email,
                                                                  normalize_email)):
        if raw:
            value = normal(raw)
            if value is None:
                raise HTTPException(404, f"no customer with {kind} {raw!r} "
                                    f"(not a valid {kind})")
            given.append((kind, value))
    if not given:
        raise HTTPException(404, "say which customer: phone= or email=")
    tiers = [Tier(t.name, t.min_spend) for t in rt.settings.customers.tiers]
    with rt.db.read() as conn:
        found = {queries.customer_by_identity(conn, kind, value) for kind, value in given}
        customer_id = found.pop() if len(found) == 1 else None
        profile = None if customer_id is None else queries.customer_profile(
            conn, rt.settings.tickets.ref_prefix, customer_id, tiers, rt.clock.now())
    if profile is None:
        raise HTTPException(404, "no customer with " + " and ".join(
            f"{kind} {value}" for kind, value in given))
    privacy.record(rt.db, caller.name, "api", "profile", customer_id, rt.clock.now())
    return dict(localize(profile, rt.settings.zone))


@router.get("/healthz", response_model=Health, tags=["operations"],
            responses={503: {"model": Health, "description": "the database is unavailable"}})
def healthz(request: Request, response: Response) -> dict[str, Any]:
    rt = runtime(request)
    try:
        with rt.db.read() as conn:
            stats = inbox.stats(conn)
    except Exception as exc:
        response.status_code = 503
        return {"status": "unavailable", "database": f"{type(exc).__name__}",
                "inbox_waiting": -1, "inbox_dead": -1}
    return {"status": "ok", "database": "ok", "inbox_waiting": stats.waiting,
            "inbox_dead": stats.dead}
