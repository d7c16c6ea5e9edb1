"""`GET /api/macros` lists the configured macros; `POST /api/tickets/{ref}/macros/{name}`
runs one on a ticket, all or nothing (switchboard/desk/macros.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel

from switchboard.desk import macros
from switchboard.web.common import (
    Caller,
    problems,
    reachable,
    runtime,
    ticket_id_of,
    wake_dispatcher,
)
from tickets.refs import format_ref

router = APIRouter(tags=["tickets"])
Ref = Annotated[str, Path(max_length=64, description="a ticket reference such as MC-12")]
Name = Annotated[str, Path(max_length=64, pattern=r"^[a-z0-9_.-]+$")]


class MacroOut(BaseModel):
    name: str
    title: str
    actions: list[dict[str, str]]


class MacroRun(BaseModel):
    ticket: str
    macro: str
    done: list[str]  # what each step did, in order


@router.get("/api/macros", response_model=list[MacroOut], responses=problems(401))
def list_macros(request: Request, caller: Caller) -> list[MacroOut]:
    return [MacroOut(name=m.name, title=m.title, actions=[dict(a) for a in m.actions])
            for m in runtime(request).settings.macros]


@router.post("/api/tickets/{ref}/macros/{name}", response_model=MacroRun,
             responses=problems(401, 404, 409, 422))
def run_macro(request: Request, ref: Ref, name: Name, caller: Caller) -> MacroRun:
    """Every step journaled as if done by hand; the first step that cannot be done undoes
    the others and is named in the 409."""
    rt = runtime(request)
    ticket_id = ticket_id_of(ref)
    try:
        macros.find(rt.settings, name)
    except macros.MacroRefused as exc:
        raise HTTPException(404, str(exc)) from None
    try:
        with rt.db.write() as conn:
            reachable(conn, caller, ticket_id, ref)
            done = macros.run(conn, rt.settings, rt.secret, rt.replies, ticket_id, name,
                              caller.name, rt.clock.now())
    except macros.MacroRefused as exc:  # the transaction rolled back: nothing stays
        raise HTTPException(409, str(exc)) from None
    wake_dispatcher(request)
    return MacroRun(ticket=format_ref(rt.settings.tickets.ref_prefix, ticket_id), macro=name,
                    done=done)
