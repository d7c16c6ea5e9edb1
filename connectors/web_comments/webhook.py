"""Comments posted on the shop's website, sent to us as signed JSON.

Format (documented in the README): `POST /webhooks/web-comments` with headers
`X-Switchboard-Timestamp: <unix seconds>` and
`X-Switchboard-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" with the
shared secret>`, and a body

    {"comment_id": "c-981", "product_id": "p-12", "product_name": "Buffet Sen Tây Hồ",
     "author": {"id": "u-77", "name": "Lan", "email": "lan@gmail.com", "phone": null},
     "text": "...", "parent_id": null, "created_at": "2026-11-22T10:00:00+07:00"}

The timestamp is part of the signature and must be within five minutes, so a captured
request cannot be replayed later; within the window, the comment id makes a replay a no-op.
Our answers go back to the site's callback URL signed the same way.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connectors.webhooks import Parsed, WebhookError, field_str, hmac_sha256_hex, same
from tickets.messages import Channel, InboundMessage

MAX_SKEW_SECONDS = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac_sha256_hex(secret, timestamp.encode() + b"." + body)


def verify(body: bytes, signature: str | None, timestamp: str | None, secret: str,
           now: float | None = None) -> None:
    if not signature or not timestamp:
        raise WebhookError(401, "missing X-Switchboard-Signature or X-Switchboard-Timestamp")
    if not timestamp.isdigit() or abs((now or time.time()) - int(timestamp)) > MAX_SKEW_SECONDS:
        raise WebhookError(403, "X-Switchboard-Timestamp is not within five minutes of now")
    if not same(sign(secret, timestamp, body), signature):
        raise WebhookError(403, "X-Switchboard-Signature does not match")


def parse(data: Mapping[str, Any], now: datetime) -> Parsed:
    comment_id = field_str(data, "comment_id")
    product_id = field_str(data, "product_id")
    text = field_str(data, "text")
    author = data.get("author")
    if not isinstance(author, dict):
        raise WebhookError(400, "missing field author")
    # who wrote: their email or phone when the site knows it, else the site's user id
    sender = (field_str(author, "email", required=False)
              or field_str(author, "phone", required=False)
              or field_str(author, "id"))
    assert comment_id and product_id and text is not None and sender
    created = field_str(data, "created_at", required=False)
    try:
        when = datetime.fromisoformat(created) if created else now
    except ValueError:
        when = now
    if when.tzinfo is None:
        when = now
    meta = {"comment_id": comment_id, "product_id": product_id}
    product_name = field_str(data, "product_name", required=False)
    if product_name:
        meta["product_name"] = product_name
    parent = field_str(data, "parent_id", required=False)
    if parent:
        meta["parent_id"] = parent
    subject = f"Bình luận về {product_name}" if product_name else None
    body = f"[{product_name}] {text}" if product_name else text
    return Parsed(messages=[InboundMessage(
        Channel.WEB_COMMENT, comment_id, sender, body or "(empty)", when,
        sender_name=field_str(author, "name", required=False), subject=subject,
        conversation=f"web:{product_id}:{sender}", meta=meta)])
