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

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from switchboard.intake.message import CONTENT, not_blank, validation_reason
from switchboard.web.common import Caller, deliver, problems, read_limited, runtime
from switchboard.web.schemas import Queued
from tickets.identities import normalize_phone
from tickets.messages import Channel, InboundMessage

router = APIRouter(tags=["intake"])

# a number libphonenumber reads as Vietnamese, with the separators people type: what the
# document promises is what `normalize_phone` accepts (a property test holds the two together)
CALLER = r"^\s*(?:\+84|84|0)[ .-]?[1-9](?:[ .-]?[0-9]){7,9}\s*$"
TICKET = r"^\[?#?[A-Za-z]{1,8}-[0-9]{1,12}\]?$"


class CallIn(BaseModel):
    # the document's limits apply to what was sent: white space is trimmed after checking
    model_config = ConfigDict(extra="forbid")

    caller: str = Field(min_length=3, max_length=40, json_schema_extra={"pattern": CALLER},
                        description="the customer's Vietnamese number, in any spelling "
                                    "(0912 345 678, +84 912.345.678, 84912345678)")
    summary: Annotated[str, not_blank("summary is empty")] = Field(
        min_length=1, max_length=20_000, json_schema_extra={"pattern": CONTENT})
    direction: Literal["inbound", "outbound"] = "inbound"
    call_id: str | None = Field(None, max_length=200, description="the PBX's id (dedup key)")
    name: str | None = Field(None, max_length=255, description="the caller's name")
    ticket: str | None = Field(None, max_length=40, json_schema_extra={"pattern": TICKET},
                               description="continue this ticket (MC-12)")
    started_at: datetime | None = Field(None, strict=True)  # RFC 3339 text, not a number
    duration_seconds: int | None = Field(None, ge=0, le=86_400)

    # the document's patterns, checked here so that the refusal says what was wrong
    @field_validator("caller")
    @classmethod
    def _caller(cls, value: str) -> str:
        if not re.match(CALLER, value):
            raise ValueError(f"{value!r} is not a phone number (a Vietnamese number: "
                             "0912 345 678, +84 912 345 678)")
        return value

    @field_validator("ticket")
    @classmethod
    def _ticket(cls, value: str | None) -> str | None:
        if value is not None and not re.match(TICKET, value):
            raise ValueError(f"{value!r} is not a ticket reference (MC-12)")
        return value

    @field_validator("duration_seconds", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: object) -> object:
        """JSON's `false` is not the number 0 (Python would take it as one)."""
        if isinstance(value, bool):
            raise ValueError("Input should be a valid integer")
        return value


def call_message(call: CallIn, agent: str, key: str, now: datetime,
                 region: str = "VN") -> InboundMessage:
    phone = normalize_phone(call.caller.strip(), region)
    if phone is None:
        raise HTTPException(422, f"caller: {call.caller!r} is not a phone number")
    # a well-formed reference naming no ticket (MC-0, a number beyond any id) is like one
    # naming a ticket that does not exist: the call opens its own ticket
    when = call.started_at or now
    if when.tzinfo is None:
        raise HTTPException(422, "started_at: give a time zone (e.g. +07:00)")
    meta = {"direction": call.direction, "agent": agent,
            "call_id": (call.call_id or "").strip()}
    if call.duration_seconds is not None:
        meta["duration_seconds"] = str(call.duration_seconds)
    if call.ticket:
        meta["ticket"] = call.ticket
    return InboundMessage(Channel.PHONE, key, phone, call.summary.strip(),
                          when.astimezone(UTC),
                          sender_name=call.name.strip() if call.name else None, meta=meta)


@router.post("/api/calls", status_code=202, response_model=Queued,
             responses={200: {"model": Queued, "description": "a retry: logged before"},
                        **problems(400, 401, 413, 422)})
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
    if (call_id := (call.call_id or "").strip()):
        key = f"call:{call_id}"
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
