"""The message types every connector produces and consumes.

Raw platform payloads never leave `connectors/`: they become these frozen objects, which are
what the durable inbox stores (as JSON) and what the pipeline reads.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Channel(StrEnum):
    EMAIL = "email"
    MESSENGER = "messenger"
    FACEBOOK_COMMENT = "facebook_comment"
    TELEGRAM = "telegram"
    ZALO = "zalo"
    WEB_COMMENT = "web_comment"
    PHONE = "phone"
    API = "api"
    SLACK = "slack"  # the agents' side: only ever an outbox channel, never a customer's
    PORTAL = "portal"  # a supplier's own request, raised from the supplier portal


# what the intake API accepts: the portal writes its own channel, nobody else may
CHANNELS: frozenset[str] = frozenset(c.value for c in Channel
                                     if c not in (Channel.SLACK, Channel.PORTAL))


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    sha256: str | None = None
    url: str | None = None
    stored_path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "url": self.url,
            "stored_path": self.stored_path,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Attachment:
        return cls(
            filename=str(data["filename"]),
            content_type=str(data["content_type"]),
            size=int(data["size"]),
            sha256=data.get("sha256"),
            url=data.get("url"),
            stored_path=data.get("stored_path"),
        )


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One message from a customer or supplier, normalised at the edge.

    `(channel, external_id)` is the dedup key: the platform's own id (Message-ID, Messenger
    `mid`, Telegram `update_id`, comment id, Zalo `msg_id`), never one we invent, so a replay
    of the same delivery is recognised. `thread_keys` are the connector's hints for joining a
    conversation: `conversation` names a platform conversation that maps to one ticket (a
    Facebook post and commenter, a website product and author), `thread_keys` are earlier
    platform message ids this one answers (email `In-Reply-To`/`References`). The pipeline
    decides what they mean.
    """

    channel: Channel
    external_id: str
    sender: str
    text: str
    received_at: datetime
    sender_name: str | None = None
    subject: str | None = None
    recipient: str | None = None
    conversation: str | None = None
    thread_keys: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    meta: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.received_at.tzinfo is None:
            raise ValueError("received_at must be timezone-aware")
        if not self.external_id:
            raise ValueError("external_id (the dedup key) must not be empty")

    def as_history(self) -> InboundMessage:
        """The same message marked as old mail (an import, mail that waited for days): it
        joins or opens its ticket, but nobody is sent "we received it" now."""
        return dataclasses.replace(self, meta={**self.meta, "acknowledge": "no"})

    @property
    def is_history(self) -> bool:
        return self.meta.get("acknowledge") == "no"

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel.value,
            "external_id": self.external_id,
            "sender": self.sender,
            "text": self.text,
            "received_at": self.received_at.isoformat(),
            "sender_name": self.sender_name,
            "subject": self.subject,
            "recipient": self.recipient,
            "conversation": self.conversation,
            "thread_keys": list(self.thread_keys),
            "attachments": [a.to_dict() for a in self.attachments],
            "meta": dict(self.meta),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InboundMessage:
        return cls(
            channel=Channel(data["channel"]),
            external_id=str(data["external_id"]),
            sender=str(data["sender"]),
            text=str(data["text"]),
            received_at=datetime.fromisoformat(data["received_at"]),
            sender_name=data.get("sender_name"),
            subject=data.get("subject"),
            recipient=data.get("recipient"),
            conversation=data.get("conversation"),
            thread_keys=tuple(data.get("thread_keys") or ()),
            attachments=tuple(Attachment.from_dict(a) for a in data.get("attachments") or ()),
            meta=dict(data.get("meta") or {}),
        )


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A message to send on a channel, as the outbox holds it.

    `automatic` marks what no person wrote (acknowledgements, surveys): email marks it
    `Auto-Submitted: auto-replied` so that other robots do not answer it. `thread` carries
    what a channel needs to thread the answer (email: `in_reply_to`, `references`,
    `reply_to`, `from_address`; chats: the conversation or comment ids).
    """

    channel: Channel
    recipient: str
    text: str
    ticket_ref: str
    subject: str | None = None
    html: str | None = None
    automatic: bool = False
    thread: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"channel": self.channel.value, "recipient": self.recipient, "text": self.text,
                "ticket_ref": self.ticket_ref, "subject": self.subject, "html": self.html,
                "automatic": self.automatic, "thread": dict(self.thread)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OutboundMessage:
        return cls(channel=Channel(data["channel"]), recipient=str(data["recipient"]),
                   text=str(data["text"]), ticket_ref=str(data["ticket_ref"]),
                   subject=data.get("subject"), html=data.get("html"),
                   automatic=bool(data.get("automatic")), thread=dict(data.get("thread") or {}))
