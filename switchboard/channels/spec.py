"""What a chat channel declares about itself, so that the web layer, the outbox, the
acknowledgements and the wiring can loop over channels instead of naming them (Zulip's
integrations registry, in small)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from connectors.outbound import Sender
from connectors.webhooks import Parsed
from tickets.messages import Channel

# verify the signature on the exact bytes received, then parse: `Parsed`, or WebhookError
# (401/403 for a signature, 400 for a malformed body). `config` is the channel's own section
# of `channels:` in config.yaml.
Reader = Callable[[bytes, Mapping[str, str], Any, datetime], Parsed]
# a GET the platform sends to check the URL (Messenger's hub.challenge): the text to answer
Subscriber = Callable[[Mapping[str, str], Any], str]
# the sender for the outbox, or None when answers must wait (the reason goes to the log)
SenderFactory = Callable[[Any, float], Sender | None]
# who an answer goes to, and what the platform needs to thread it, from the metadata of the
# customer's last message (`from` is the sender as the connector gave it)
Addresser = Callable[[Mapping[str, str], Any], tuple[str, dict[str, object]]]


@dataclass(frozen=True, slots=True)
class Conversation:
    """One kind of conversation a channel's messages are stored under (Facebook's webhook
    brings Messenger chats and page comments, answered differently)."""
    channel: Channel
    label: str  # for people: Slack cards, the dashboard
    address: Addresser
    acknowledges: bool = False  # a new ticket gets a short "we received it" on the channel
    reply_window: timedelta | None = None  # the platform refuses answers after this long


@dataclass(frozen=True, slots=True)
class Webhook:
    path: str  # under /webhooks/
    read: Reader
    subscribe: Subscriber | None = None
    # the channel's connector runs a bot framework that turns updates into messages itself
    # (aiogram for Telegram): `read` returns the verified updates, the bot must be running
    bot: bool = False


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    key: str  # its section under `channels:` in config.yaml
    conversations: tuple[Conversation, ...]
    webhook: Webhook
    sender: SenderFactory | None = None  # None: the connector's bot sends (wiring builds it)
    config: Callable[[Any], Any] | None = None  # the section from `settings.channels`

    def settings(self, channels: Any) -> Any:
        """This channel's section of `settings.channels` (enabled, acknowledge, secrets)."""
        return self.config(channels) if self.config else getattr(channels, self.key)
