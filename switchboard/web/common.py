"""What every HTTP entry point shares: the runtime behind the app, the caller's identity,
a body read with a size limit, and the one way a message reaches the durable inbox. Kept
apart so that the API, the webhooks, the hotline log and the portal import it and not
each other."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import HTTPException, Request, Security, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from switchboard.web.auth import Principal, authenticate
from switchboard.web.schemas import Problem
from tickets import inbox, store
from tickets.messages import InboundMessage
from tickets.refs import parse_ref
from tickets.store import TicketHead


def runtime(request: Request) -> Any:
    return request.app.state.runtime


def wake_dispatcher(request: Request) -> None:
    """Something was queued in the outbox: send it now rather than at the next poll."""
    services: Any = getattr(request.app.state, "services", None)
    if services is not None:
        services.wake_dispatcher_threadsafe()


def ticket_in_reach(conn: Connection, caller: Principal, ticket_id: int) -> TicketHead | None:
    """The ticket, or None when it does not exist or lies outside the caller's departments
    (both answer 404: a token limited to departments learns nothing of the others)."""
    head = store.get_head(conn, ticket_id)
    if head is None or (caller.departments and head.department not in caller.departments):
        return None
    return head


def ticket_id_of(ref: str) -> int:
    """The ticket a reference (`MC-12`) names; 404 when it is no reference at all."""
    ticket_id = parse_ref(ref)
    if ticket_id is None:
        raise HTTPException(404, f"{ref!r} is not a ticket reference")
    return ticket_id


def reachable(conn: Connection, caller: Principal, ticket_id: int, ref: str) -> TicketHead:
    """`ticket_in_reach`, or the 404 every ticket route answers."""
    head = ticket_in_reach(conn, caller, ticket_id)
    if head is None:
        raise HTTPException(404, f"no ticket {ref}")
    return head


# declared so that the OpenAPI document says every /api route wants a bearer token;
# `authenticate` does the checking (constant time, roles, departments)
_bearer = HTTPBearer(auto_error=False, scheme_name="token",
                     description="a token from `auth.tokens` in config.yaml")


def principal(request: Request,
              _given: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
              ) -> Principal:
    return authenticate(request, runtime(request).settings.auth.tokens)


Caller = Annotated[Principal, Security(principal)]

# Every error the API answers has one shape, `{"detail": "what was wrong"}` (Problem);
# each route declares which of these it can answer.
_ERRORS = {
    400: "malformed body (not JSON, not UTF-8, not an object)",
    401: "no bearer token, or not a known one",
    403: "the token's role may not do this",
    404: "no such ticket or customer (or not in the caller's departments)",
    409: "the request conflicts with the ticket's state (e.g. nobody to answer)",
    413: "the body is larger than the configured limit",
    422: "a field or parameter is missing or invalid; `detail` names it",
    503: "the database is unavailable",
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, all in the Problem shape."""
    return {code: {"model": Problem, "description": _ERRORS[code]} for code in codes}


async def read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                            f"body is {declared} bytes; the limit is {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                                f"body exceeds the limit of {limit} bytes")
    return bytes(body)


async def deliver(request: Request, message: InboundMessage) -> bool:
    """The message in the durable inbox (group-committed by the InboxWriter when the app
    runs one); True when it is new, False for a replay."""
    writer = getattr(request.app.state, "inbox_writer", None)
    if writer is None:
        rt = runtime(request)

        def put() -> bool:
            if rt.pipeline.queue is not None:
                return bool(rt.pipeline.queue.put(message))
            with rt.db.write() as conn:
                return inbox.put(conn, message, rt.clock.now())

        return await run_in_threadpool(put)
    new: bool = await writer.put(message)
    return new
