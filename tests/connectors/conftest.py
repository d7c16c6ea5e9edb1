"""Fixtures for the chat connectors' tests (the email ones have their own)."""

from tests.connectors.chat import chat
from tests.connectors.fakes import fake_platform

__all__ = ["chat", "fake_platform"]
