"""The ASGI application (FastAPI: typed routes and a served OpenAPI document for free).

The lifespan starts what runs beside the HTTP server in one process: the pipeline worker
(and, as channels arrive, their pollers and schedulers), and stops them cleanly.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from switchboard.bootstrap import Runtime
from switchboard.web import contract, pages
from switchboard.web.api import router
from switchboard.web.calls import router as calls
from switchboard.web.corrections import router as corrections_router
from switchboard.web.customer_merges import router as customer_merges_router
from switchboard.web.dashboard import router as dashboard_router
from switchboard.web.links import router as links_router
from switchboard.web.macros import router as macros_router
from switchboard.web.merges import router as merges_router
from switchboard.web.metrics import metrics_router
from switchboard.web.orders import router as orders_router
from switchboard.web.portal import router as portal_router
from switchboard.web.privacy import router as privacy_router
from switchboard.web.replies import router as replies_router
from switchboard.web.slack import routes as slack_routes
from switchboard.web.webhooks import routes as webhook_routes
from switchboard.wiring.services import Services

log = logging.getLogger("switchboard.web")


def create_app(rt: Runtime, *, run_worker: bool = True, run_intake: bool = False) -> FastAPI:
    """`run_intake` also starts the SMTP receiver and IMAP pollers (serve does; tests that
    only exercise HTTP do not)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = Services(rt, worker=run_worker, intake=run_intake)
        app.state.services = services
        await services.start()
        app.state.worker = services.worker
        app.state.inbox_writer = services.inbox_writer
        app.state.bots = services.bots
        if not rt.settings.auth.tokens or not any(t.token for t in rt.settings.auth.tokens):
            log.warning("no API tokens configured (auth.tokens): /api answers 401 to everyone")
        try:
            yield
        finally:
            await services.stop()

    app = FastAPI(title="Switchboard", version="0.1.0", lifespan=lifespan,
                  description="Omnichannel contact-center router: intake, tickets, customers.")
    app.state.runtime = rt
    app.state.worker = None
    app.include_router(router)
    app.include_router(calls)
    app.include_router(privacy_router)
    app.include_router(merges_router)
    app.include_router(links_router)
    app.include_router(macros_router)
    app.include_router(customer_merges_router)
    app.include_router(replies_router)
    app.include_router(orders_router)
    app.include_router(corrections_router)
    app.include_router(metrics_router(rt))
    app.router.routes.extend(webhook_routes())
    app.router.routes.extend(slack_routes)
    app.state.pages = pages.templates_for(rt.settings.templates_dir)
    app.include_router(pages.router)
    app.include_router(portal_router)
    app.include_router(dashboard_router)

    contract.install(app, rt.settings)

    @app.exception_handler(pages.LoginRequired)
    async def login_required(request: Request, _exc: pages.LoginRequired) -> Response:
        return pages.login_redirect(request)

    @app.exception_handler(ValueError)
    async def value_error(_request: Request, exc: ValueError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    return app
