"""A person's data through the API (admins only): `GET /api/customers/{id}/export`, the same
document as `switchboard customers export`, and `POST /api/customers/{id}/erase`, the same
erasure as `switchboard customers erase`. Both are recorded in the personal-data log."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from switchboard.desk import privacy
from switchboard.intake.message import CONTENT, not_blank
from switchboard.web.common import Caller, problems, runtime
from tickets import personal_data

router = APIRouter(tags=["customers"])
CustomerId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/api/customers/{customer_id}/export",
            responses={200: {"description": "the personal-data document (format "
                             f"{personal_data.FORMAT})"}, **problems(401, 403, 404, 422)})
def export_customer(request: Request, caller: Caller, customer_id: CustomerId
                    ) -> dict[str, Any]:
    """Everything held about the customer: identities, orders, tickets with messages,
    attachments' descriptions and journals, satisfaction answers, outbox."""
    if not caller.at_least("admin"):
        raise HTTPException(403, "only an admin token may export a person's data")
    rt = runtime(request)
    with rt.db.read() as conn:
        document = personal_data.export(conn, customer_id, rt.settings.tickets.ref_prefix,
                                        rt.clock.now())
    if document is None:
        raise HTTPException(404, f"no customer #{customer_id}")
    privacy.record(rt.db, caller.name, "api", "export", document["customer"]["id"],
                   rt.clock.now())
    return document


class EraseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, not_blank("reason is empty")] = Field(
        min_length=1, max_length=2000, json_schema_extra={"pattern": CONTENT},
        description="why: kept in the tickets' journals and the log, without the data")


class ErasedOut(BaseModel):
    customer_id: int
    customers: int
    tickets: int
    messages: int
    identities: int
    orders: int
    outbox_cancelled: int
    mentions: int
    inbox: int
    files: int
    slack_lines: int
    files_removed: int
    database: str


@router.post("/api/customers/{customer_id}/erase", response_model=ErasedOut,
             responses=problems(400, 401, 403, 404, 413, 422))
async def erase_customer(request: Request, caller: Caller, customer_id: CustomerId,
                         body: EraseIn) -> ErasedOut:
    """Erase the person's personal data everywhere Switchboard keeps it (their tickets stay
    as anonymous rows); counts only in the answer. Running it again is harmless."""
    if not caller.at_least("admin"):
        raise HTTPException(403, "only an admin token may erase a person's data")
    rt = runtime(request)
    done = await asyncio.to_thread(privacy.erase, rt.db, rt.settings, customer_id,
                                   caller.name, "api", body.reason.strip(),
                                   rt.clock.now())
    if done is None:
        raise HTTPException(404, f"no customer #{customer_id}")
    return ErasedOut(customer_id=done.erasure.customer_id, **done.erasure.summary(),
                     files_removed=done.files_removed, database=done.scrubbed)
