"""The chat and comment channels' senders for the outbox, from the channel registry: one
per enabled channel that sends over HTTP (said in the log when a channel is off)."""

from __future__ import annotations

import logging

from connectors.outbound import Sender
from switchboard import channels
from switchboard.settings import Settings

log = logging.getLogger("switchboard.channels")


def chat_senders(settings: Settings) -> dict[str, Sender]:
    """Keyed by stored channel: one platform's sender answers all its conversations
    (Messenger chats and page comments share the Graph API)."""
    senders: dict[str, Sender] = {}
    timeout = settings.channels.send_timeout.total_seconds()
    for spec in channels.specs():
        config = spec.settings(settings.channels)
        if not config.enabled:
            log.info("channel %s disabled (channels.%s.enabled)", spec.key, spec.key)
            continue
        sender = spec.sender(config, timeout) if spec.sender is not None else None
        if sender is not None:
            for conversation in spec.conversations:
                senders[conversation.channel.value] = sender
    return senders
