"""The platforms' webhooks: read the raw body (with a size limit), check the signature on
those exact bytes, parse, put the messages in the durable inbox, answer.

A platform hears 200 only after its messages are committed (group-committed with other
requests by the InboxWriter); a replay is answered 200 and changes nothing; an event we do
not handle is answered 200 and logged once (platforms disable webhooks that keep failing);
a bad signature is 401/403 and malformed JSON 400, and nothing is stored.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from connectors.facebook import webhook as facebook
from connectors.web_comments import webhook as web_comments
from connectors.webhooks import Parsed, WebhookError, json_object
from connectors.zalo import webhook as zalo
from switchboard.web.api import read_limited, runtime
from tickets.messages import InboundMessage

log = logging.getLogger("switchboard.webhooks")
_LOGGED: set[tuple[str, str]] = set()


def _refuse(exc: WebhookError) -> JSONResponse:
    log.warning("webhook refused (%s): %s", exc.status, exc.reason)
    return JSONResponse({"detail": exc.reason}, status_code=exc.status)


def _enabled(request: Request, channel: str) -> Any:
    settings = getattr(runtime(request).settings.channels, channel)
    if not settings.enabled:
        raise HTTPException(404, f"channel {channel} is not enabled (channels.{channel})")
    return settings


async def _body(request: Request) -> bytes:
    return await read_limited(request, runtime(request).settings.channels.max_body_bytes)


async def deliver(request: Request, message: InboundMessage) -> bool:
    writer = getattr(request.app.state, "inbox_writer", None)
    if writer is None:
        from starlette.concurrency import run_in_threadpool

        from tickets import inbox

        rt = runtime(request)

        def put() -> bool:
            if rt.pipeline.queue is not None:
                return bool(rt.pipeline.queue.put(message))
            with rt.db.write() as conn:
                return inbox.put(conn, message, rt.clock.now())

        return await run_in_threadpool(put)
    new: bool = await writer.put(message)
    return new


async def _store(request: Request, channel: str, parsed: Parsed) -> dict[str, Any]:
    new = 0
    for message in parsed.messages:
        new += await deliver(request, message)
    for kind in parsed.ignored:
        if (channel, kind) not in _LOGGED:
            _LOGGED.add((channel, kind))
            log.info("%s: %s events are not messages; ignored (logged once)", channel, kind)
    return {"ok": True, "queued": new, "duplicates": len(parsed.messages) - new,
            "ignored": len(parsed.ignored)}


async def messenger_subscribe(request: Request) -> Response:
    settings = _enabled(request, "messenger")
    try:
        return PlainTextResponse(facebook.verify_subscription(request.query_params,
                                                              settings.verify_token))
    except WebhookError as exc:
        return _refuse(exc)


async def messenger(request: Request) -> Response:
    settings = _enabled(request, "messenger")
    body = await _body(request)
    try:
        facebook.verify_signature(body, request.headers.get("x-hub-signature-256"),
                                  settings.app_secret)
        parsed = facebook.parse(json_object(body), runtime(request).clock.now())
    except WebhookError as exc:
        return _refuse(exc)
    return JSONResponse(await _store(request, "messenger", parsed))


async def zalo_event(request: Request) -> Response:
    settings = _enabled(request, "zalo")
    body = await _body(request)
    try:
        data = json_object(body)
        zalo.verify(body, request.headers.get("x-zevent-signature"), data, settings.app_id,
                    settings.secret_key)
        parsed = zalo.parse(data, runtime(request).clock.now())
    except WebhookError as exc:
        return _refuse(exc)
    return JSONResponse(await _store(request, "zalo", parsed))


async def web_comment(request: Request) -> Response:
    settings = _enabled(request, "web_comments")
    body = await _body(request)
    try:
        web_comments.verify(body, request.headers.get("x-switchboard-signature"),
                            request.headers.get("x-switchboard-timestamp"), settings.secret,
                            now=runtime(request).clock.now().timestamp())
        parsed = web_comments.parse(json_object(body), runtime(request).clock.now())
    except WebhookError as exc:
        return _refuse(exc)
    return JSONResponse(await _store(request, "web_comments", parsed))


async def telegram_update(request: Request) -> Response:
    settings = _enabled(request, "telegram")
    connector = getattr(request.app.state, "telegram", None)
    if connector is None or settings.mode != "webhook":
        raise HTTPException(404, "the Telegram bot is not running in webhook mode")
    from connectors.telegram.bot import verify_secret

    body = await _body(request)
    try:
        verify_secret(request.headers.get("x-telegram-bot-api-secret-token"),
                      settings.webhook_secret)
        data = json_object(body)
        if not isinstance(data.get("update_id"), int):
            raise WebhookError(400, "missing field update_id")
    except WebhookError as exc:
        return _refuse(exc)
    await connector.feed(data)
    return JSONResponse({"ok": True})


# Plain Starlette routes, not FastAPI ones: these endpoints take the raw request and
# answer a Response, so FastAPI's dependency solving and response validation would only
# add cost -- about a quarter of the CPU per webhook (benchmarks/bench_webhooks.py).
routes = [
    Route("/webhooks/messenger", messenger_subscribe, methods=["GET"]),
    Route("/webhooks/messenger", messenger, methods=["POST"]),
    Route("/webhooks/zalo", zalo_event, methods=["POST"]),
    Route("/webhooks/web-comments", web_comment, methods=["POST"]),
    Route("/webhooks/telegram", telegram_update, methods=["POST"]),
]
