"""`POST /slack/events`: Slack's events, interactions (buttons, menus, modals) and slash
commands, all on one URL; bolt checks the signature and answers within 3 seconds."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.slack.app import dispatch
from switchboard.web.common import read_limited, runtime


async def slack_events(request: Request) -> Response:
    services = getattr(request.app.state, "services", None)
    slack = getattr(services, "slack", None)
    if slack is None:
        return JSONResponse({"detail": "Slack is not enabled (slack.enabled)"}, status_code=404)
    body = await read_limited(request, runtime(request).settings.channels.max_body_bytes)
    answer = await dispatch(slack.app, body, request.headers, request.url.query)
    return Response(content=answer.body, status_code=answer.status,
                    headers=answer.first_headers_without_set_cookie())


routes = [Route("/slack/events", slack_events, methods=["POST"])]
