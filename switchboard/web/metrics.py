"""`GET /metrics`: Prometheus text exposition of `switchboard.insight.metrics`.

No token: Prometheus scrapes it. The figures are counts and ages, no ticket content, but
they still describe the business; keep the server on loopback (the default `http.host`) or
let a reverse proxy refuse `/metrics` from outside.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from switchboard.bootstrap import Runtime
from switchboard.insight.metrics import build_registry


def metrics_router(rt: Runtime) -> APIRouter:
    """The route with a registry of its own for this app (built once, read on each scrape)."""
    registry = build_registry(rt.db, rt.clock, rt.settings.routing.departments)
    router = APIRouter()

    # a plain `def`: FastAPI runs it in the thread pool, so the queries never block the loop
    @router.get("/metrics", response_class=Response, tags=["operations"],
                responses={200: {"content": {CONTENT_TYPE_LATEST: {}},
                                 "description": "Prometheus text format"}})
    def metrics() -> Response:
        """Prometheus metrics (no token; do not expose publicly)."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router
