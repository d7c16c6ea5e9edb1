"""The served OpenAPI document, and the one error shape the API answers with.

FastAPI writes most of the document from the routes; two things it cannot see are added
here: the bodies of the intake routes, which read their raw bytes (to refuse oversized and
malformed input before parsing it) and so declare no body parameter, and an error shape
for request validation that is the same `{"detail": "..."}` as every other error, instead
of FastAPI's list of `ValidationError` objects. Generated clients and fuzzers
(`tests/web/test_api_contract.py` runs schemathesis with every check) take this document
at its word.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from switchboard.intake.message import CONTENT
from switchboard.settings import Settings
from switchboard.web.calls import CallIn
from tickets.messages import customer_channels


def max_text(settings: Settings) -> int:
    """The longest text `POST /api/messages` takes: `tickets.max_text_chars`, or fewer when
    such a text could not fit in `http.max_body_bytes` — JSON may escape a character as
    12 bytes (a surrogate pair), and the other fields take up to 64 KiB — so that every
    body the document calls valid is read (never 413) and every text too long is a 422."""
    fits = (settings.http.max_body_bytes - 65_536) // 12
    return max(1, min(settings.tickets.max_text_chars, fits))


def message_schema(settings: Settings) -> dict[str, Any]:
    """`POST /api/messages`: what `switchboard.intake.message.MessageIn` accepts."""
    text = max_text(settings)
    return {
        "type": "object",
        "required": ["external_id", "channel", "from", "text"],
        "properties": {
            "external_id": {"type": "string", "minLength": 1, "maxLength": 512,
                            "description": "the platform's own id: the dedup key"},
            "id": {"type": ["string", "null"], "maxLength": 512},
            "channel": {"type": "string", "enum": sorted(customer_channels())},
            "from": {"type": "string", "minLength": 1, "maxLength": 320,
                     "pattern": CONTENT,
                     "description": "an email address, a phone number or a platform id"},
            "name": {"type": ["string", "null"], "maxLength": 255},
            "subject": {"type": ["string", "null"], "maxLength": 998},
            "text": {"type": "string", "minLength": 1, "maxLength": text,
                     "pattern": CONTENT},
        },
    }


def reply_schema(codes: Sequence[str]) -> dict[str, Any]:
    """`POST /api/tickets/{ref}/replies`: an answer (`text`, `html` if wanted) or a saved
    reply (`saved`, one of the codes loaded now), never both: what `ReplyIn` accepts."""
    typed = {"type": "object", "title": "an answer", "additionalProperties": False,
             "required": ["text"],
             "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 50_000,
                                     "pattern": CONTENT},
                            "html": {"anyOf": [{"type": "string", "maxLength": 200_000},
                                               {"type": "null"}]}}}
    if not codes:
        return typed
    saved = {"type": "object", "title": "a saved reply", "additionalProperties": False,
             "required": ["saved"],
             "properties": {"saved": {"type": "string", "enum": list(codes),
                                      "description": "a code from GET /api/replies"}}}
    return {"oneOf": [typed, saved]}


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def install(app: FastAPI, settings: Settings) -> None:
    def openapi() -> dict[str, Any]:
        codes = tuple(app.state.runtime.replies.codes())  # they reload: so may the document
        if app.openapi_schema is None or codes != getattr(app.state, "reply_codes", None):
            document = get_openapi(title=app.title, version=app.version,
                                   description=app.description, routes=app.routes)
            paths = document["paths"]
            paths["/api/messages"]["post"]["requestBody"] = _json_body(message_schema(settings))
            call = CallIn.model_json_schema(ref_template="#/components/schemas/{model}")
            document["components"]["schemas"]["CallIn"] = call
            paths["/api/calls"]["post"]["requestBody"] = _json_body(
                {"$ref": "#/components/schemas/CallIn"})
            document["components"]["schemas"]["ReplyIn"] = reply_schema(codes)
            app.state.reply_codes = codes
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]


async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 `{"detail": "query.limit: Input should be less than or equal to 500"}`."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ())) or "request"
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{where}: {'is required' if error.get('type') == 'missing' else message}")
    return JSONResponse({"detail": "; ".join(parts)}, status_code=422)
