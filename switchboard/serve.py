"""`switchboard serve`: one asyncio loop with the HTTP server and everything beside it."""

from __future__ import annotations

import asyncio
import logging
import signal

import uvicorn

from switchboard import bootstrap
from switchboard.settings import Settings
from switchboard.web import create_app
from switchboard.worker import Worker

log = logging.getLogger("switchboard")


async def serve(settings: Settings, *, host: str | None, port: int | None,
                worker: bool) -> None:
    rt = bootstrap.build(settings)
    app = create_app(rt, run_worker=worker)
    config = uvicorn.Config(app, host=host or settings.http.host,
                            port=port if port is not None else settings.http.port,
                            log_level="info", access_log=False, lifespan="on")
    log.info("database %s", rt.db.engine.url.render_as_string(hide_password=True))
    if not worker:
        log.info("pipeline worker disabled (--no-worker): run `switchboard worker` elsewhere")
    server = uvicorn.Server(config)
    try:
        await server.serve()
    finally:
        rt.db.dispose()


async def run_worker(settings: Settings) -> None:
    """A worker process: drain the inbox until SIGTERM/SIGINT, finishing the batch at hand."""
    rt = bootstrap.build(settings)
    worker = Worker(rt.pipeline, settings.worker.idle_sleep.total_seconds())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, worker.stop)
    try:
        await worker.run()
    finally:
        rt.db.dispose()
