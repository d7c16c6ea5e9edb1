"""`POST /api/tickets/{ref}/merge {"into": "MC-9"}`: merge a ticket into another (agents and
up, within their departments); see switchboard/desk/merge.py for what moves and why."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from switchboard.desk import merge
from switchboard.desk.actions import ActionRefused
from switchboard.web.calls import TICKET
from switchboard.web.common import Caller, problems, runtime
from tickets import store
from tickets.refs import format_ref, parse_ref

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
            head = store.get_head(conn, ticket_id)
            if head is None or (caller.departments
                                and head.department not in caller.departments):
                raise HTTPException(404, f"no ticket "
                                         f"{format_ref(rt.settings.tickets.ref_prefix, ticket_id)}")
        try:
            done = merge.merge(conn, rt.settings, source, target, caller.name,
                               rt.clock.now())
        except ActionRefused as exc:
            raise HTTPException(409, str(exc)) from None
        count = merge.message_count(conn, target)
    services = getattr(request.app.state, "services", None)
    if services is not None:
        services.wake_dispatcher_threadsafe()
    prefix = rt.settings.tickets.ref_prefix
    return Merged(ticket=format_ref(prefix, done.ticket_id),
                  merged=format_ref(prefix, source), messages=count)
