"""`POST /api/customers/{id}/merge {"into": N}` merges a customer into another by hand;
`POST /api/customers/merges/{merge}/undo` undoes it within 24 hours
(switchboard/desk/customer_merge.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from switchboard.desk import customer_merge
from switchboard.desk.actions import ActionRefused
from switchboard.web.common import Caller, problems, runtime

router = APIRouter(tags=["customers"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


class CustomerMergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    into: int = Field(ge=1, le=2**31 - 1, description="the customer who stays")


class CustomerMerge(BaseModel):
    merge: int  # what POST /api/customers/merges/{merge}/undo takes
    kept: int
    dropped: int


@router.post("/api/customers/{customer_id}/merge", response_model=CustomerMerge,
             status_code=201, responses=problems(400, 401, 409, 422))
def merge_customer(request: Request, customer_id: Id, body: CustomerMergeIn,
                   caller: Caller) -> CustomerMerge:
    """The customer's identities and tickets move to `into`; undoable for 24 hours."""
    rt = runtime(request)
    try:
        with rt.db.write() as conn:
            merge_id = customer_merge.merge(conn, body.into, customer_id, caller.name,
                                            rt.clock.now())
    except ActionRefused as exc:
        raise HTTPException(409, str(exc)) from None
    return CustomerMerge(merge=merge_id, kept=body.into, dropped=customer_id)


@router.post("/api/customers/merges/{merge_id}/undo", response_model=CustomerMerge,
             responses=problems(401, 409, 422))
def undo_customer_merge(request: Request, merge_id: Id, caller: Caller) -> CustomerMerge:
    """Move back exactly what the merge moved (tickets opened since stay where they are)."""
    rt = runtime(request)
    try:
        with rt.db.write() as conn:
            kept, dropped = customer_merge.undo(conn, merge_id, caller.name, rt.clock.now())
    except ActionRefused as exc:
        raise HTTPException(409, str(exc)) from None
    return CustomerMerge(merge=merge_id, kept=kept, dropped=dropped)
