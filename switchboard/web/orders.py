"""`POST /api/orders`: the shop's system upserts one order as it changes (placed, confirmed,
shipping with its carrier and tracking code, delivered, ...), so the bot's order-status
answers say what the shop knows now. The same rows and checks as `switchboard import orders`
(tickets/catalog.py); admin tokens only, since it writes customers' contacts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from switchboard.intake.message import CONTENT
from switchboard.web.calls import CALLER
from switchboard.web.common import Caller, problems, runtime
from tickets import catalog
from tickets.identities import normalize_email, normalize_phone
from tickets.schema import suppliers

router = APIRouter(tags=["orders"])
Status = Literal["placed", "confirmed", "shipping", "delivered", "cancelled", "returned",
                 "refunded"]
EMAIL = r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"  # tickets.identities' own
Code = Annotated[str, Field(min_length=1, max_length=64,
                            pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_code: Code
    supplier_id: Code
    product: str = Field(min_length=1, max_length=500, pattern=CONTENT)
    amount: int = Field(ge=0, le=10**15, description="in VND")
    customer_phone: str | None = Field(None, max_length=40, pattern=CALLER,
                                       description="a Vietnamese number")
    customer_email: str | None = Field(None, max_length=320, pattern=EMAIL)
    status: Status | None = None
    status_at: datetime | None = Field(None, description="ISO 8601; without an offset, "
                                                          "Vietnam's time")
    carrier: str | None = Field(None, max_length=64)
    tracking_code: str | None = Field(None, max_length=128)
    expected_at: datetime | None = None


class OrderOut(BaseModel):
    order_code: str
    created: bool
    status: str | None


@router.post("/api/orders", response_model=OrderOut,
             responses=problems(400, 401, 403, 409, 413, 422))
def upsert_order(request: Request, caller: Caller, body: OrderIn) -> OrderOut:
    """Create or replace one order with where it is now (a missing tracking field is
    cleared: send the order as the shop's system holds it); 409 for a supplier the catalog
    does not hold."""
    if not caller.at_least("admin"):
        raise HTTPException(403, "only an admin token may write orders")
    phone = normalize_phone(body.customer_phone) if body.customer_phone else None
    if body.customer_phone and phone is None:
        raise HTTPException(422, f"{body.customer_phone!r} is not a valid phone")
    email = normalize_email(body.customer_email) if body.customer_email else None
    if body.customer_email and email is None:
        raise HTTPException(422, f"{body.customer_email!r} is not an email")
    rt = runtime(request)
    row = catalog.OrderRow(0, body.order_code.upper(), body.supplier_id, body.product.strip(),
                           phone, email, body.amount, catalog.Tracking(
                               body.status, _utc(body.status_at), body.carrier or None,
                               body.tracking_code or None, _utc(body.expected_at)))
    with rt.db.write() as conn:
        if conn.execute(select(suppliers.c.id).where(
                suppliers.c.id == body.supplier_id)).first() is None:
            raise HTTPException(409, f"unknown supplier_id {body.supplier_id!r} (import "
                                     "suppliers first)")
        done = catalog.write_orders(conn, [row], rt.clock.now())
    return OrderOut(order_code=row.code, created=bool(done.inserted), status=body.status)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return catalog.parse_time(value.isoformat())
