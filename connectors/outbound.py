"""The port every channel's sender implements, and how a send can fail."""

from __future__ import annotations

from typing import Protocol

from tickets.messages import OutboundMessage


class SendFailed(Exception):
    """`permanent` failures (a refused address, a closed messaging window) are not retried;
    the reason is shown to the agent on the ticket."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class Sender(Protocol):
    async def send(self, message: OutboundMessage, key: str) -> str | None:
        """Send; return the platform's id for what was sent (Message-ID, mid, ...).
        `key` is stable across retries of the same outbox row (an idempotency key)."""
        ...

    async def aclose(self) -> None:
        """Release connections (called once, at shutdown)."""
        ...
