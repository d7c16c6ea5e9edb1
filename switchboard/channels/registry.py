"""The chat channels, by key and by the channel their messages are stored under. The
built-in ones are registered at import; `register` adds another (a plug-in, or a test's
throw-away channel) before the app is built."""

from __future__ import annotations

from switchboard.channels import messenger, telegram, web_comments, zalo
from switchboard.channels.spec import ChannelSpec, Conversation

# channels that are not chats: labelled here so every channel has one name for people
_OTHER_LABELS = {"email": "Email", "phone": "Hotline", "api": "API",
                 "portal": "Cổng NCC / Supplier portal", "slack": "Slack"}

_SPECS: dict[str, ChannelSpec] = {}
# by stored channel: the conversation and the spec it belongs to
_CONVERSATIONS: dict[str, tuple[ChannelSpec, Conversation]] = {}


def register(spec: ChannelSpec) -> None:
    taken = [c.channel.value for c in spec.conversations if c.channel.value in _CONVERSATIONS]
    if spec.key in _SPECS or taken:
        raise ValueError(f"channel {spec.key} is registered already ({taken or spec.key})")
    _SPECS[spec.key] = spec
    for conversation in spec.conversations:
        _CONVERSATIONS[conversation.channel.value] = (spec, conversation)


def unregister(key: str) -> None:
    """For tests that register a channel of their own."""
    spec = _SPECS.pop(key)
    for conversation in spec.conversations:
        _CONVERSATIONS.pop(conversation.channel.value, None)


def specs() -> tuple[ChannelSpec, ...]:
    return tuple(_SPECS.values())


def conversation(channel: str) -> Conversation | None:
    """The chat conversation a stored channel is, or None (email, phone, API, portal)."""
    found = _CONVERSATIONS.get(channel)
    return found[1] if found else None


def spec_of(channel: str) -> ChannelSpec | None:
    """The chat channel whose webhook brings messages stored under `channel`."""
    found = _CONVERSATIONS.get(channel)
    return found[0] if found else None


def label(channel: str) -> str:
    found = conversation(channel)
    return found.label if found else _OTHER_LABELS.get(channel, channel)


for _spec in (messenger.SPEC, telegram.SPEC, zalo.SPEC, web_comments.SPEC):
    register(_spec)
