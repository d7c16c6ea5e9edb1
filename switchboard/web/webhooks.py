"""The chat platforms' webhooks, one route per channel in the registry: read the raw body
(with a size limit), let the channel check the signature on those exact bytes and parse,
put the messages in the durable inbox, answer.

A platform hears 200 only after its messages are committed (group-committed with other
requests by the InboxWriter); a replay is answered 200 and changes nothing; an event we do
not handle is answered 200 and logged once (platforms disable webhooks that keep failing);
a bad signature is 401/403 and malformed JSON 400, and nothing is stored. A channel that is
not enabled answers 404.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from connectors.webhooks import Parsed, WebhookError
from switchboard import channels
from switchboard.channels import ChannelSpec
from switchboard.web.common import deliver, read_limited, runtime

log = logging.getLogger("switchboard.webhooks")
_LOGGED: set[tuple[str, str]] = set()

Endpoint = Callable[[Request], Awaitable[Response]]


def _refuse(exc: WebhookError) -> JSONResponse:
    log.warning("webhook refused (%s): %s", exc.status, exc.reason)
    return JSONResponse({"detail": exc.reason}, status_code=exc.status)


def _enabled(request: Request, spec: ChannelSpec) -> Any:
    config = spec.settings(runtime(request).settings.channels)
    if not config.enabled:
        raise HTTPException(404, f"channel {spec.key} is not enabled (channels.{spec.key})")
    return config


def _bot(request: Request, spec: ChannelSpec) -> Any:
    """The channel's running bot, for channels whose bot framework makes the messages."""
    bot = getattr(request.app.state, "bots", {}).get(spec.key)
    if bot is None:
        raise HTTPException(404, f"the {spec.key} bot is not running in webhook mode")
    return bot


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


def receive(spec: ChannelSpec) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        config = _enabled(request, spec)
        bot = _bot(request, spec) if spec.webhook.bot else None
        body = await read_limited(request, runtime(request).settings.channels.max_body_bytes)
        try:
            parsed = spec.webhook.read(body, request.headers, config,
                                       runtime(request).clock.now())
        except WebhookError as exc:
            return _refuse(exc)
        if bot is not None:
            for update in parsed.updates:
                await bot.feed(update)
            return JSONResponse({"ok": True})
        return JSONResponse(await _store(request, spec.key, parsed))

    return endpoint


def subscribe(spec: ChannelSpec) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        config = _enabled(request, spec)
        assert spec.webhook.subscribe is not None
        try:
            return PlainTextResponse(spec.webhook.subscribe(request.query_params, config))
        except WebhookError as exc:
            return _refuse(exc)

    return endpoint


def routes() -> list[Route]:
    """Plain Starlette routes, not FastAPI ones: these endpoints take the raw request and
    answer a Response, so FastAPI's dependency solving and response validation would only
    add cost -- about a quarter of the CPU per webhook (benchmarks/bench_webhooks.py)."""
    found: list[Route] = []
    for spec in channels.specs():
        path = f"/webhooks/{spec.webhook.path}"
        if spec.webhook.subscribe is not None:
            found.append(Route(path, subscribe(spec), methods=["GET"]))
        found.append(Route(path, receive(spec), methods=["POST"]))
    return found
