"""What the parser and the robot detector both need of a MIME tree: its parts, walked to one
depth and part budget (an attachment bomb stops there), and Message-IDs found in header
text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import Message

MAX_PARTS = 200
MAX_DEPTH = 8
MSGID = re.compile(r"<[^<>\s]+>")


def first_msgid(value: str) -> str | None:
    found = MSGID.search(value)
    return found.group(0) if found else None


def walk(msg: Message, depth: int = 0,
         into_messages: bool = False) -> Iterator[tuple[Message, int, str]]:
    """Every part with its depth and content type, depth first, to MAX_DEPTH. An attached
    message (message/rfc822) is one part — what it contains is not this mail's body —
    unless `into_messages` (looking inside a bounce for the message it returns)."""
    kind = msg.get_content_type()
    yield msg, depth, kind
    if kind == "message/rfc822" and depth > 0 and not into_messages:
        return
    if msg.is_multipart() and depth < MAX_DEPTH:
        payload = msg.get_payload()
        if isinstance(payload, list):
            for part in payload:
                if isinstance(part, Message):
                    yield from walk(part, depth + 1, into_messages)
