"""`POST /api/tickets/{ref}/merge {"into": "MC-9"}` merges a ticket into another
(switchboard/desk/merge.py); `POST /api/tickets/{ref}/split {"message_id": N}` moves one of
its messages into a new ticket, classified and routed afresh (switchboard/pipeline/split.py).
Agents and up, within their departments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from switchboard.desk import merge
from switchboard.desk.actions import ActionRefused
from switchboard.pipeline.split import SplitRefused, split
from switchboard.web.calls import TICKET
from switchboard.web.common import Caller, problems, runtime, ticket_in_reach, wake_dispatcher
from tickets import store
from tickets.refs import format_ref, parse_ref
from tickets.schema import messages

router = APIRouter(tags=["tickets"])
Ref = Annotated[str, Path(max_length=64, description="a ticket reference such as MC-12")]


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    into: str = Field(min_length=1, max_length=40, json_schema_extra={"pattern": TICKET},
                      description="the ticket that keeps the conversation (MC-9)")


class Merged(BaseModel):
    ticket: str  # the target
    merged: str  # the source, now closed and pointing to the target
    messages: int  # the target's messages now


@router.post("/api/tickets/{ref}/merge", response_model=Merged,
             responses=problems(400, 401, 404, 409, 422))
def merge_ticket(request: Request, ref: Ref, body: MergeIn, caller: Caller) -> Merged:
    """Merge the ticket into `into`: its messages move there, it is closed and points there,
    its SLA clocks stop (the target's run); the customer is not told. 409 with the reason
    when it cannot be (already merged, different customers)."""
    rt = runtime(request)
    source, target = parse_ref(ref), parse_ref(body.into)
    if source is None or target is None:
        raise HTTPException(404, f"{ref if source is None else body.into!r} is not a ticket "
                                 "reference")
    with rt.db.write() as conn:
        for ticket_id in (source, target):
            if ticket_in_reach(conn, caller, ticket_id) is None:
                raise HTTPException(404, f"no ticket "
                                         f"{format_ref(rt.settings.tickets.ref_prefix, ticket_id)}")
        try:
            done = merge.merge(conn, rt.settings, source, target, caller.name,
                               rt.clock.now())
        except ActionRefused as exc:
            raise HTTPException(409, str(exc)) from None
        count = merge.message_count(conn, target)
    wake_dispatcher(request)
    prefix = rt.settings.tickets.ref_prefix
    return Merged(ticket=format_ref(prefix, done.ticket_id),
                  merged=format_ref(prefix, source), messages=count)


class SplitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message_id: int = Field(ge=1, le=2**31 - 1, description="one of the ticket's messages "
                            "(the `id` of a message in GET /api/tickets/{ref})")


class SplitOut(BaseModel):
    ticket: str  # the new ticket
    split_from: str
    category: str
    department: str


@router.post("/api/tickets/{ref}/split", response_model=SplitOut, status_code=201,
             responses=problems(400, 401, 404, 409, 422))
def split_ticket(request: Request, ref: Ref, body: SplitIn, caller: Caller) -> SplitOut:
    """Move the message into a new ticket, classified and routed afresh with its own SLA
    clocks; both tickets journal it and point to each other; the customer is not told."""
    rt = runtime(request)
    source = parse_ref(ref)
    if source is None:
        raise HTTPException(404, f"{ref!r} is not a ticket reference")
    prefix = rt.settings.tickets.ref_prefix
    with rt.db.write() as conn:
        if ticket_in_reach(conn, caller, source) is None:
            raise HTTPException(404, f"no ticket {format_ref(prefix, source)}")
        owner = conn.execute(select(messages.c.ticket_id).where(
            messages.c.id == body.message_id)).scalar()
        if owner != source:
            raise HTTPException(404, f"no message {body.message_id} in "
                                     f"{format_ref(prefix, source)}")
        try:
            new_id = split(rt.pipeline.context, conn, body.message_id, caller.name)
        except SplitRefused as exc:
            raise HTTPException(409, str(exc)) from None
        new = store.get_head(conn, new_id)
    assert new is not None
    wake_dispatcher(request)
    return SplitOut(ticket=format_ref(prefix, new_id), split_from=format_ref(prefix, source),
                    category=new.category, department=new.department)
