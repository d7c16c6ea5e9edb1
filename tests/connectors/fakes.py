"""A fake platform API on 127.0.0.1: a small aiohttp server that records every request and
answers what the test scripted (a JSON body, an error status, or a delay past the client's
timeout). The real clients (httpx senders, aiogram's Bot) are pointed at it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aiohttp import web


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode()))


@dataclass
class Scripted:
    status: int = 200
    body: Any = None
    delay: float = 0.0


Answer = Callable[[Received], Any]


@dataclass
class FakePlatform:
    """`answer(request)` builds the normal answer; `script` holds one-off answers taken in
    order first (e.g. two 500s, then the normal one)."""

    answer: Answer
    received: list[Received] = field(default_factory=list)
    script: list[Scripted] = field(default_factory=list)
    url: str = ""

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        got = Received(request.method, request.path, dict(request.query),
                       {k.lower(): v for k, v in request.headers.items()}, body)
        self.received.append(got)
        if self.script:
            step = self.script.pop(0)
            if step.delay:
                await asyncio.sleep(step.delay)
            if step.body is not None or step.status != 200:
                return web.json_response(step.body or {"error": "scripted"},
                                         status=step.status)
        return web.json_response(self.answer(got))

    def calls(self, path_suffix: str) -> list[Received]:
        return [r for r in self.received if r.path.endswith(path_suffix)]


async def start_fake(answer: Answer) -> tuple[FakePlatform, web.AppRunner]:
    fake = FakePlatform(answer)
    app = web.Application(client_max_size=10 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", fake._handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.url = f"http://127.0.0.1:{port}"
    return fake, runner


@pytest.fixture
async def fake_platform() -> AsyncIterator[Callable[[Answer], Any]]:
    """A factory: `fake = await fake_platform(answer)`; all are stopped after the test."""
    runners: list[web.AppRunner] = []

    async def make(answer: Answer) -> FakePlatform:
        fake, runner = await start_fake(answer)
        runners.append(runner)
        return fake

    yield make
    for runner in runners:
        await runner.cleanup()
