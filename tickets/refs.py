"""Ticket references as people see them: `MC-123`.

The number is the ticket's primary key and the prefix is configuration, so a reference in
an old email still finds its ticket after the prefix changes: only the number is read back.
"""

from __future__ import annotations

import hashlib
import hmac
import re

_REF = re.compile(r"(?<![A-Za-z0-9])#?([A-Za-z]{1,8})-(\d{1,12})(?![0-9])")


def format_ref(prefix: str, ticket_id: int) -> str:
    return f"{prefix}-{ticket_id}"


MAX_ID = 2**31 - 1  # tickets.id is an INTEGER: a larger number names no ticket


def parse_ref(ref: str) -> int | None:
    """The ticket id inside `MC-123`, `#MC-123` or a bare `123`; None if there is none (or
    the number is beyond any ticket id: PostgreSQL would refuse to compare it)."""
    text = ref.strip()
    if text.isdigit():
        number = int(text) if len(text) <= 12 else None
    else:
        match = _REF.fullmatch(text.lstrip("[").rstrip("]"))
        number = int(match.group(2)) if match else None
    return number if number is not None and 0 < number <= MAX_ID else None


def find_refs(text: str, prefix: str) -> list[int]:
    """Ticket ids quoted in free text such as a subject `Re: [#MC-123] ...`."""
    pattern = re.compile(rf"(?<![A-Za-z0-9])\[?#?{re.escape(prefix)}-(\d{{1,12}})\]?", re.I)
    found = (int(m.group(1)) for m in pattern.finditer(text))
    return [n for n in found if 0 < n <= MAX_ID]


def reply_token(ticket_id: int, secret: bytes) -> str:
    """The token in our Reply-To plus-address (`hotro+12-3fa9c0d1e2@...`): the ticket id and
    an HMAC, so a reply threads even when a provider rewrote our Message-ID, and nobody can
    write their way into a ticket by guessing a number."""
    return f"{ticket_id}-{_signature(ticket_id, secret)}"


def parse_reply_token(token: str, secret: bytes) -> int | None:
    number, _, signature = token.strip().lower().partition("-")
    if not number.isdigit() or not signature:
        return None
    ticket_id = int(number)
    return ticket_id if hmac.compare_digest(signature, _signature(ticket_id, secret)) else None


def _signature(ticket_id: int, secret: bytes) -> str:
    return hmac.new(secret, f"ticket:{ticket_id}".encode(), hashlib.sha256).hexdigest()[:10]
