"""`GET /api/customers/{id}/export`: everything held about one person (admins only), the
same document as `switchboard customers export`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request

from switchboard.web.common import Caller, problems, runtime
from tickets import personal_data

router = APIRouter(tags=["customers"])


@router.get("/api/customers/{customer_id}/export",
            responses={200: {"description": "the personal-data document (format "
                             f"{personal_data.FORMAT})"}, **problems(401, 403, 404, 422)})
def export_customer(request: Request, caller: Caller,
                    customer_id: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> dict[str, Any]:
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
    return document
