"""The hotline: an agent logs a call and it joins or opens the caller's ticket.

A call is a message on the `phone` channel whose sender is the caller's number (E.164, so
the same customer is found whether the agent typed 0901 234 567 or +84901234567). The
summary is what the customer said, in the agent's words, and it is classified like any
message. A call continues the caller's open ticket on any channel (they are calling about
what they already wrote), or the ticket the agent names. The dedup key is the PBX call id
when there is one; otherwise the client's `Idempotency-Key`, so a retried POST does not log
the call twice.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from switchboard.intake.message import validation_reason
from switchboard.web.common import Caller, deliver, read_limited, runtime
from switchboard.web.schemas import Queued
from tickets.identities import normalize_phone
from tickets.messages import Channel, InboundMessage
from tickets.refs import parse_ref

router = APIRouter(tags=["intake"])


class CallIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    caller: str = Field(min_length=3, max_length=40, description="the customer's number")
    summary: str = Field(min_length=1, max_length=20_000)
    direction: Literal["inbound", "outbound"] = "inbound"
    call_id: str | None = Field(None, max_length=200, description="the PBX's id (dedup key)")
    name: str | None = Field(None, max_length=255, description="the caller's name")
    ticket: str | None = Field(None, max_length=40, description="continue this ticket")
    started_at: datetime | None = None
    duration_seconds: int | None = Field(None, ge=0, le=86_400)


def call_message(call: CallIn, agent: str, key: str, now: datetime,
                 region: str = "VN") -> InboundMessage:
    phone = normalize_phone(call.caller, region)
    if phone is None:
        raise HTTPException(422, f"caller: {call.caller!r} is not a phone number")
    if call.ticket is not None and parse_ref(call.ticket) is None:
        raise HTTPException(422, f"ticket: {call.ticket!r} is not a ticket reference")
    when = call.started_at or now
    if when.tzinfo is None:
        raise HTTPException(422, "started_at: give a time zone (e.g. +07:00)")
    meta = {"direction": call.direction, "agent": agent, "call_id": call.call_id or ""}
    if call.duration_seconds is not None:
        meta["duration_seconds"] = str(call.duration_seconds)
    if call.ticket:
        meta["ticket"] = call.ticket
    return InboundMessage(Channel.PHONE, key, phone, call.summary, when.astimezone(UTC),
                          sender_name=call.name, meta=meta)


@router.post("/api/calls", status_code=202, response_model=Queued,
             responses={200: {"model": Queued}, 401: {}, 413: {}, 422: {}})
async def log_call(request: Request, response: Response, caller: Caller,
                   idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
                   ) -> Queued:
    """Log a call `{"caller", "summary", "direction"?, "call_id"?, "ticket"?}`."""
    rt = runtime(request)
    raw = await read_limited(request, rt.settings.http.max_body_bytes)
    try:
        call = CallIn.model_validate_json(raw)
    except ValidationError as exc:
        malformed = any(e["type"] == "json_invalid" for e in exc.errors())
        raise HTTPException(400 if malformed else 422, validation_reason(exc)) from None
    if call.call_id:
        key = f"call:{call.call_id}"
    elif idempotency_key:
        key = f"call:{caller.name}:{idempotency_key}"
    else:
        key = f"call:{uuid.uuid4()}"
    message = call_message(call, caller.name, key, rt.clock.now())
    created = await deliver(request, message)
    if not created:
        response.status_code = 200
    return Queued(status="queued" if created else "duplicate", channel="phone",
                  external_id=key)
