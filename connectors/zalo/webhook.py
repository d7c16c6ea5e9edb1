"""Zalo OA webhook events, verified by `X-ZEvent-Signature`.

Zalo signs with a plain SHA-256 (not an HMAC) of `app_id + raw body + timestamp +
OA secret key`, sent as `mac=<hex>`; the timestamp is the event's own `timestamp` field.
Zalo wants a 200 within about two seconds and retries for hours, so the `msg_id` is the
dedup key. No captured payloads are public: the fixtures follow the documented format
(https://developers.zalo.me/docs/official-account/webhook), e.g.

    {"app_id": "APP", "event_name": "user_send_text", "sender": {"id": "USER"},
     "recipient": {"id": "OA"}, "message": {"text": "Đơn hàng chưa giao", "msg_id": "M1"},
     "timestamp": "1700000000000", "user_id_by_app": "U_APP"}
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.webhooks import Parsed, WebhookError, field_str, same
from tickets.messages import Attachment, Channel, InboundMessage

MESSAGE_EVENTS = {"user_send_text", "user_send_image", "user_send_file", "user_send_sticker",
                  "user_send_location", "user_send_link", "user_send_audio",
                  "user_send_video", "user_send_gif", "user_send_business_card"}
IGNORED_EVENTS = {"follow", "unfollow", "user_received_message", "user_seen_message",
                  "oa_send_text", "oa_send_image", "oa_send_file", "oa_send_list",
                  "oa_send_gif", "oa_send_sticker", "user_reacted_message",
                  "oa_reacted_message", "add_user_to_tag", "user_submit_info",
                  "user_click_chatnow", "change_oa_daily_quota", "change_oa_template_tags"}


def signature(app_id: str, body: bytes, timestamp: str, secret_key: str) -> str:
    return hashlib.sha256(app_id.encode() + body + timestamp.encode()
                          + secret_key.encode()).hexdigest()


def verify(body: bytes, header: str | None, data: Mapping[str, Any], app_id: str,
           secret_key: str) -> None:
    if not header:
        raise WebhookError(401, "missing X-ZEvent-Signature")
    given = header.strip().removeprefix("mac=")
    timestamp = str(data.get("timestamp") or "")
    if str(data.get("app_id") or "") != app_id or not same(
            signature(app_id, body, timestamp, secret_key), given):
        raise WebhookError(403, "X-ZEvent-Signature does not match")


def _attachments(message: Mapping[str, Any]) -> tuple[Attachment, ...]:
    found = []
    for item in message.get("attachments") or []:
        if not isinstance(item, dict):
            continue
        raw_payload = item.get("payload")
        payload: dict[str, Any] = raw_payload if isinstance(raw_payload, dict) else {}
        kind = str(item.get("type") or "file")
        size = str(payload.get("size") or "")
        found.append(Attachment(
            filename=str(payload.get("name") or kind),
            content_type=str(payload.get("type") or {"image": "image/*"}.get(
                kind, "application/octet-stream")),
            size=int(size) if size.isdigit() else 0,
            sha256=None, url=payload.get("url") or payload.get("thumbnail")))
    return tuple(found)


def parse(data: Mapping[str, Any], now: datetime) -> Parsed:
    event = field_str(data, "event_name")
    parsed = Parsed()
    if event in IGNORED_EVENTS:
        parsed.ignored.append(str(event))
        return parsed
    if event not in MESSAGE_EVENTS:
        parsed.ignored.append(f"unknown event {event}")
        return parsed
    sender = field_str(data, "sender", "id")
    oa = field_str(data, "recipient", "id")
    message = data.get("message")
    if not isinstance(message, dict):
        raise WebhookError(400, "missing field message")
    msg_id = field_str(message, "msg_id")
    assert sender is not None and oa is not None and msg_id is not None
    attachments = _attachments(message)
    text = str(message.get("text") or "")
    if not text:
        text = "[" + (", ".join(a.filename for a in attachments) or event.removeprefix(
            "user_send_")) + "]"
    timestamp = str(data.get("timestamp") or "")
    when = (datetime.fromtimestamp(int(timestamp) / 1000, UTC) if timestamp.isdigit()
            else now)
    parsed.messages.append(InboundMessage(
        Channel.ZALO, msg_id, sender, text, when, recipient=oa, attachments=attachments,
        meta={"user_id": sender, "oa_id": oa, "event": str(event)}))
    return parsed
