"""`POST /api/tickets/{ref}/links {"to": "MC-9", "as": "parent"}` links related tickets
(MC-9 becomes MC-12's parent; `child` and `related` too) and `DELETE
/api/tickets/{ref}/links/{other}` removes a link; see switchboard/desk/links.py."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from switchboard.desk import links
from switchboard.desk.actions import ActionRefused
from switchboard.web.calls import TICKET
from switchboard.web.common import Caller, problems, runtime, ticket_in_reach
from tickets.refs import format_ref, parse_ref

router = APIRouter(tags=["tickets"])
Ref = Annotated[str, Path(max_length=64, description="a ticket reference such as MC-12")]


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str = Field(min_length=1, max_length=40, json_schema_extra={"pattern": TICKET})
    as_: Literal["parent", "child", "related"] = Field(
        alias="as", description="what `to` is to this ticket")


class Links(BaseModel):
    ticket: str
    links: list[dict[str, str]]  # {"ticket": "MC-9", "kind": "parent"}


def _pair(request: Request, caller: Caller, ref: str, other: str) -> tuple[int, int]:
    rt = runtime(request)
    ids = parse_ref(ref), parse_ref(other)
    for given, ticket_id in zip((ref, other), ids, strict=True):
        if ticket_id is None:
            raise HTTPException(404, f"{given!r} is not a ticket reference")
    with rt.db.read() as conn:
        for ticket_id in ids:
            if ticket_in_reach(conn, caller, ticket_id or 0) is None:
                raise HTTPException(404, "no ticket "
                                    f"{format_ref(rt.settings.tickets.ref_prefix, ticket_id or 0)}")
    assert ids[0] is not None and ids[1] is not None
    return ids[0], ids[1]


@router.post("/api/tickets/{ref}/links", response_model=Links, status_code=201,
             responses=problems(400, 401, 404, 409, 422))
def add_link(request: Request, ref: Ref, body: LinkIn, caller: Caller) -> Links:
    """Link `to` as this ticket's parent, child or related ticket (both sides, journaled);
    409 for a link that would make a ticket its own ancestor."""
    rt = runtime(request)
    ticket_id, other_id = _pair(request, caller, ref, body.to)
    prefix = rt.settings.tickets.ref_prefix
    try:
        with rt.db.write() as conn:
            links.link(conn, prefix, ticket_id, other_id, body.as_, caller.name,
                       rt.clock.now())
            found = links.links_of(conn, prefix, ticket_id)
    except ActionRefused as exc:
        raise HTTPException(409, str(exc)) from None
    return Links(ticket=format_ref(prefix, ticket_id), links=found)


@router.delete("/api/tickets/{ref}/links/{other}", status_code=204,
               responses=problems(401, 404, 422))
def remove_link(request: Request, ref: Ref, other: Ref, caller: Caller) -> Response:
    rt = runtime(request)
    ticket_id, other_id = _pair(request, caller, ref, other)
    with rt.db.write() as conn:
        if not links.unlink(conn, rt.settings.tickets.ref_prefix, ticket_id, other_id,
                            caller.name, rt.clock.now()):
            raise HTTPException(404, f"{ref} and {other} are not linked")
    return Response(status_code=204)
