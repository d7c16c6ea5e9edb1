"""Saved replies over HTTP: `GET /api/replies` lists them (code and title) for agents' tools;
`POST /api/tickets/{ref}/replies {"saved": code}` (in `api`, beside `{"text": ...}`) sends
one, filled in for the ticket in the customer's language (`desk.saved_reply`).

The statuses of a saved reply: an unknown code is a 422 naming it — the OpenAPI document
lists the codes loaded now, so such a body is invalid by the document too; a reply that
needs something the ticket lacks (`order.code` on a ticket whose messages name no order)
is a 409 naming the variable — the ticket's state is what is missing, not a field of the
request — and nothing is sent.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from switchboard.web.common import Caller, problems, runtime

router = APIRouter()


class SavedReplyOut(BaseModel):
    code: str
    title: str


class SavedReplyList(BaseModel):
    items: list[SavedReplyOut]


@router.get("/api/replies", response_model=SavedReplyList, tags=["tickets"],
            responses=problems(401))
def list_replies(request: Request, caller: Caller) -> dict[str, Any]:
    """The saved replies, for `{"saved": code}` in `POST /api/tickets/{ref}/replies`."""
    replies = runtime(request).replies.all()
    return {"items": [{"code": r.code, "title": r.title} for r in replies]}
