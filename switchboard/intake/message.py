"""The JSON message accepted by `switchboard classify`, `switchboard ingest` and
`POST /api/messages`: `{"id", "channel", "from", "subject"?, "text"}` (+ `external_id`).

One strict model for all three, so a line that the CLI refuses is refused by the API with
the same words.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, overload

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from tickets.messages import Channel, InboundMessage, customer_channels

# Blank is NUL (removed anyway), what Python's str.isspace() calls white space, and the
# BOM, which JavaScript's \s includes: spelled out, so that a JSON Schema pattern and this
# code agree on what an empty text is whichever regex dialect a client uses.
BLANK = ("\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f"
         "\u3000\ufeff")
CONTENT = f"[^{BLANK}]"  # a pattern: somewhere in the string, something to read
_CONTENT = re.compile(CONTENT)


def has_content(value: str) -> bool:
    return _CONTENT.search(value) is not None


def not_blank(refusal: str) -> AfterValidator:
    """A field check: the value has something to read, else `refusal` (a 422 reason)."""
    def check(value: str) -> str:
        if not has_content(value):
            raise ValueError(refusal)
        return value

    return AfterValidator(check)


class BadMessage(ValueError):
    """A message that cannot be taken, with a reason fit to show the sender."""


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    id: str | None = Field(None, max_length=512)
    external_id: str | None = Field(None, max_length=512)
    channel: str
    sender: Annotated[str, not_blank("from is blank: say who wrote")] = Field(
        alias="from", min_length=1, max_length=320)
    sender_name: str | None = Field(None, alias="name", max_length=255)
    subject: str | None = Field(None, max_length=998)
    text: Annotated[str, not_blank("text is empty")]

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        if value not in customer_channels():
            raise ValueError(f"unknown channel {value!r}; channels are "
                             f"{sorted(customer_channels())}")
        return value

    @property
    def dedup_key(self) -> str | None:
        return self.external_id or self.id

    def to_inbound(self, received_at: datetime) -> InboundMessage:
        key = self.dedup_key
        if not key:
            raise BadMessage("external_id (or id) is required: it is the dedup key")
        # NUL is valid JSON and invalid in PostgreSQL text: removed, as the email parser does
        return InboundMessage(
            channel=Channel(self.channel), external_id=key,
            sender=without_nul(self.sender).strip(), text=without_nul(self.text),
            received_at=received_at, sender_name=without_nul(self.sender_name),
            subject=without_nul(self.subject),
        )


@overload
def without_nul(value: str) -> str: ...
@overload
def without_nul(value: None) -> None: ...
def without_nul(value: str | None) -> str | None:
    """NUL is valid JSON and invalid in PostgreSQL text, and nothing we store holds it."""
    return value.replace("\x00", "") if value else value


def validation_reason(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "body"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing":
            message = "is required"
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def parse_message(raw: bytes | str, max_text_chars: int) -> MessageIn:
    """Parse one JSON object; raises BadMessage with a reason a person can act on."""
    if isinstance(raw, bytes):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadMessage(f"body is not valid UTF-8 (byte {exc.start})") from None
    try:
        data: Any = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadMessage(f"malformed JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadMessage("expected a JSON object")
    try:
        message = MessageIn.model_validate(data)
    except ValidationError as exc:
        raise BadMessage(validation_reason(exc)) from None
    if len(message.text) > max_text_chars:
        raise BadMessage(f"text is {len(message.text)} characters; the limit is "
                         f"{max_text_chars}")
    return message
