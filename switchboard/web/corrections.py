"""`POST /api/tickets/{ref}/reclassify {"category", "topic"}`: a person corrects the router
through the API as from Slack's *Reclassify* menu — routed again, journaled, its Slack card
moved or refreshed, and kept as a labelled example (tickets/corrections.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel, ConfigDict

from switchboard.desk import actions, slack_cards
from switchboard.web.common import (
    Caller,
    problems,
    reachable,
    runtime,
    ticket_id_of,
    wake_dispatcher,
)
from tickets import store
from tickets.refs import format_ref

router = APIRouter(tags=["tickets"])
Ref = Annotated[str, Path(max_length=64, description="a ticket reference such as MC-12")]


class ReclassifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category: Literal["product", "supplier", "service", "supplier_platform", "inquiry"]
    topic: Literal["delivery", "payment", "account", "other"] | None = None


class Reclassified(BaseModel):
    ticket: str
    category: str
    topic: str | None
    department: str


@router.post("/api/tickets/{ref}/reclassify", response_model=Reclassified,
             responses=problems(400, 401, 404, 409, 422))
def reclassify(request: Request, ref: Ref, body: ReclassifyIn, caller: Caller
               ) -> Reclassified:
    """409 when the ticket already has that category and topic. A `topic` is kept for
    `service` only."""
    rt = runtime(request)
    ticket_id = ticket_id_of(ref)
    now = rt.clock.now()
    with rt.db.write() as conn:
        reachable(conn, caller, ticket_id, ref)
        try:
            done = actions.reclassify(conn, rt.settings, ticket_id, body.category,
                                      body.topic or ("other" if body.category == "service"
                                                     else None), caller.name, now, via="api")
        except actions.ActionRefused as exc:
            raise HTTPException(409, str(exc)) from None
        head = store.get_head(conn, ticket_id)
        assert head is not None
        if done.moved_from is not None:
            slack_cards.move_card(conn, rt.settings, ticket_id, head.category, head.department,
                                  f"{caller.name}: {done.summary}", now)
        else:
            slack_cards.refresh_card(conn, rt.settings, ticket_id, now)
    wake_dispatcher(request)
    return Reclassified(ticket=format_ref(rt.settings.tickets.ref_prefix, ticket_id),
                        category=head.category, topic=head.topic, department=head.department)
