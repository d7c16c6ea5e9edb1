"""The domain model and its store: customers, tickets, messages, journal, inbox, catalog."""

from tickets.clock import Clock, ManualClock, SystemClock
from tickets.database import Database
from tickets.messages import CHANNELS, Attachment, Channel, InboundMessage

__all__ = [
    "CHANNELS",
    "Attachment",
    "Channel",
    "Clock",
    "Database",
    "InboundMessage",
    "ManualClock",
    "SystemClock",
]
