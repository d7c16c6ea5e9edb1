"""Response shapes of the JSON API, which also make up the served OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Queued(BaseModel):
    status: str
    channel: str
    external_id: str


class Problem(BaseModel):
    detail: str


class TicketOut(BaseModel):
    ref: str
    status: str
    channel: str
    category: str
    topic: str | None
    supplier_id: str | None
    department: str
    customer_id: int
    sla_level: str
    subject: str | None
    created_at: str
    updated_at: str
    priority: str
    assigned_supplier_id: str | None
    assignee: str | None = None
    first_response_at: str | None = None
    sla_next_at: str | None = None
    confidence: float
    rules: list[str]
    tags: list[str]
    linked_ticket: str | None


class MessageOut(BaseModel):
    id: int  # what POST /api/tickets/{ref}/split takes
    direction: str
    channel: str
    author: str
    author_kind: str
    subject: str | None
    text: str
    created_at: str
    attachments: list[dict[str, Any]]
    external_id: str | None
    delivery: str | None = None  # for what we sent: queued, sent or failed
    delivery_error: str | None = None


class JournalOut(BaseModel):
    at: str
    actor: str
    action: str
    reason: str
    data: dict[str, Any]


class TicketDetailOut(TicketOut):
    messages: list[MessageOut]
    journal: list[JournalOut]
    sla: dict[str, Any] | None = None  # policy; per timer: due, level, left_seconds, ...
    links: list[dict[str, str]] = []  # {"ticket": "MC-9", "kind": "parent"}


class TicketPage(BaseModel):
    items: list[TicketOut]
    total: int  # with a search (`q`): the tickets matched up to the page's end
    more: bool = False  # with a search: further tickets match (ask for the next page)
    limit: int
    offset: int


class IdentityOut(BaseModel):
    kind: str
    value: str


class OrderOut(BaseModel):
    order_code: str
    supplier_id: str
    product: str
    amount: int


class CustomerOut(BaseModel):
    customer_id: int
    name: str | None
    first_seen: str
    returning: bool
    tier: str
    total_spend: int
    identities: list[IdentityOut]
    orders: list[OrderOut]
    tickets: list[TicketOut]


class Health(BaseModel):
    status: str
    database: str
    inbox_waiting: int
    inbox_dead: int
