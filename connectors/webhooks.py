"""What every webhook connector shares: signatures checked on the exact bytes received, in
constant time, and errors that say what was wrong.

A connector's `parse` turns a verified body into messages (and says which events it ignored);
the HTTP layer answers the platform only after those messages are in the durable inbox.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

from tickets.messages import InboundMessage


class WebhookError(Exception):
    """A request refused with `status` (401/403 signature, 400 malformed) and a reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class Parsed:
    messages: list[InboundMessage] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # event kinds seen and skipped on purpose
    # verified platform updates for a channel whose bot framework makes the messages itself
    # (aiogram's Dispatcher for Telegram)
    updates: list[dict[str, Any]] = field(default_factory=list)


def hmac_sha256_hex(secret: str | bytes, payload: bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.strip().encode())


def json_object(body: bytes) -> dict[str, Any]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WebhookError(400, f"body is not UTF-8 (byte {exc.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise WebhookError(400, f"malformed JSON: {exc.msg} at {exc.pos}") from None
    if not isinstance(data, dict):
        raise WebhookError(400, "expected a JSON object")
    return data


def field_str(data: Any, *path: str | int, required: bool = True) -> str | None:
    """A string (or number) at `path`, or a 400 naming the path when it is missing."""
    node = data
    for key in path:
        if isinstance(key, int):
            node = node[key] if isinstance(node, list) and len(node) > key else None
        else:
            node = node.get(key) if isinstance(node, dict) else None
        if node is None:
            break
    if node is None or isinstance(node, dict | list):
        if required:
            raise WebhookError(400, f"missing field {'.'.join(str(p) for p in path)}")
        return None
    return str(node)
