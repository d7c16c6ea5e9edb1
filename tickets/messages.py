"""The message types every connector produces and consumes.

Raw platform payloads never leave `connectors/`: they become these frozen objects, which are
what the durable inbox stores (as JSON) and what the pipeline reads.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar


class Channel(str):
    """A channel messages arrive on or leave by, stored as its plain string.

    Not an Enum, so that a new chat channel is one declarative line here (or one
    `Channel.register` call in a plug-in or a test) and the rest of Switchboard learns it
    from the channel registry. Values are interned: `Channel("zalo") is Channel.ZALO`, and
    an unknown value raises `ValueError` as an Enum would.
    """

    __slots__ = ()
    _known: ClassVar[dict[str, Channel]] = {}

    EMAIL: ClassVar[Channel]
    MESSENGER: ClassVar[Channel]
    FACEBOOK_COMMENT: ClassVar[Channel]
    TELEGRAM: ClassVar[Channel]
    ZALO: ClassVar[Channel]
    WEB_COMMENT: ClassVar[Channel]
    PHONE: ClassVar[Channel]
    API: ClassVar[Channel]
    SLACK: ClassVar[Channel]
    PORTAL: ClassVar[Channel]

    def __new__(cls, value: object) -> Channel:
        known = cls._known.get(value) if isinstance(value, str) else None
        if known is None:
            raise ValueError(f"{value!r} is not a channel")
        return known

    @classmethod
    def register(cls, value: str) -> Channel:
        """The channel named `value`, declared if it is new (a short snake_case name: it is
        stored in 24-character columns and written in config files)."""
        if not _CHANNEL_NAME.fullmatch(value):
            raise ValueError(f"{value!r} is not a channel name (a-z, 0-9, _; at most 24)")
        known = cls._known.get(value)
        if known is None:
            known = cls._known[value] = str.__new__(cls, value)
        return known

    @classmethod
    def all(cls) -> tuple[Channel, ...]:
        return tuple(cls._known.values())

    @property
    def value(self) -> str:
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"Channel({str.__str__(self)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return Channel, (str.__str__(self),)


_CHANNEL_NAME = re.compile(r"[a-z][a-z0-9_]{0,23}")

Channel.EMAIL = Channel.register("email")
Channel.MESSENGER = Channel.register("messenger")
Channel.FACEBOOK_COMMENT = Channel.register("facebook_comment")
Channel.TELEGRAM = Channel.register("telegram")
Channel.ZALO = Channel.register("zalo")
Channel.WEB_COMMENT = Channel.register("web_comment")
Channel.PHONE = Channel.register("phone")
Channel.API = Channel.register("api")
Channel.SLACK = Channel.register("slack")  # the agents' side: only ever an outbox channel
Channel.PORTAL = Channel.register("portal")  # a supplier's own request, from the portal

# written by our own sides only: the intake API refuses them from anyone else
_INTERNAL = frozenset({"slack", "portal"})


def customer_channels() -> frozenset[str]:
    """What the intake API accepts (and config files may name): every channel but Slack
    and the portal, including channels registered after import."""
    return frozenset(c.value for c in Channel.all() if c.value not in _INTERNAL)


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
