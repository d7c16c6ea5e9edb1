"""What every HTTP entry point shares: the runtime behind the app, the caller's identity,
a body read with a size limit, and the one way a message reaches the durable inbox. Kept
apart so that the API, the webhooks, the hotline log and the portal import it and not
each other."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from starlette.concurrency import run_in_threadpool

from switchboard.web.auth import Principal, authenticate
from tickets import inbox
from tickets.messages import InboundMessage


def runtime(request: Request) -> Any:
    return request.app.state.runtime


def principal(request: Request) -> Principal:
    return authenticate(request, runtime(request).settings.auth.tokens)


Caller = Annotated[Principal, Depends(principal)]


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
