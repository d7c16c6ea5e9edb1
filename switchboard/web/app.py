"""The ASGI application (FastAPI: typed routes and a served OpenAPI document for free).

The lifespan starts what runs beside the HTTP server in one process: the pipeline worker
(and, as channels arrive, their pollers and schedulers), and stops them cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from switchboard.bootstrap import Runtime
from switchboard.web.api import router
from switchboard.worker import Worker

log = logging.getLogger("switchboard.web")


def create_app(rt: Runtime, *, run_worker: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = None
        if run_worker:
            worker = Worker(rt.pipeline, rt.settings.worker.idle_sleep.total_seconds())
            app.state.worker = worker
            task = asyncio.create_task(worker.run(), name="pipeline-worker")
        if not rt.settings.auth.tokens or not any(t.token for t in rt.settings.auth.tokens):
            log.warning("no API tokens configured (auth.tokens): /api answers 401 to everyone")
        try:
            yield
        finally:
            if task is not None:
                app.state.worker.stop()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = FastAPI(title="Switchboard", version="0.1.0", lifespan=lifespan,
                  description="Omnichannel contact-center router: intake, tickets, customers.")
    app.state.runtime = rt
    app.state.worker = None
    app.include_router(router)

    @app.exception_handler(ValueError)
    async def value_error(_request: Request, exc: ValueError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    return app
