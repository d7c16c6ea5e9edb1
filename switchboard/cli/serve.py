"""`switchboard serve`: one asyncio loop with the HTTP server and everything beside it."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Coroutine
from typing import Any

import click
import uvicorn

from switchboard import bootstrap
from switchboard.outbox.saved_replies import ReplyFileError
from switchboard.settings import Settings
from switchboard.web import create_app
from switchboard.wiring.services import Services

log = logging.getLogger("switchboard")


def _build(settings: Settings) -> bootstrap.Runtime:
    """The runtime; a saved reply that does not load stops the start, naming the file."""
    try:
        return bootstrap.build(settings)
    except ReplyFileError as exc:
        raise click.ClickException(f"saved replies: {exc}") from None


def run_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run on uvloop: with httptools it roughly halves the per-request cost of the webhook
    endpoints (see benchmarks/bench_webhooks.py), and nothing here depends on the loop."""
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


async def serve(settings: Settings, *, host: str | None, port: int | None,
                worker: bool) -> None:
    rt = _build(settings)
    app = create_app(rt, run_worker=worker, run_intake=True)
    # The rules, catalog and templates are a large heap that lives as long as the process;
    # without this every full collection walks it, a 200-300 ms pause on one request in a
    # hundred (bench_webhooks p99).
    gc.collect()
    gc.freeze()
    config = uvicorn.Config(app, host=host or settings.http.host,
                            port=port if port is not None else settings.http.port,
                            log_level="info", access_log=False, lifespan="on",
                            http="httptools")
    log.info("database %s", rt.db.engine.url.render_as_string(hide_password=True))
    if not worker:
        log.info("pipeline worker disabled (--no-worker): run `switchboard worker` elsewhere")
    server = uvicorn.Server(config)
    try:
        await server.serve()
    finally:
        rt.db.dispose()


async def run_worker(settings: Settings) -> None:
    """A worker process (pipeline and outbox, no HTTP, no intake) until SIGTERM/SIGINT,
    finishing the batch at hand."""
    rt = _build(settings)
    services = Services(rt, worker=True, intake=False)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopped.set)
    await services.start()
    try:
        await stopped.wait()
    finally:
        await services.stop()
        rt.db.dispose()
