"""The domain model and its store: customers, tickets, messages, journal, inbox, catalog."""

from tickets.clock import Clock, ManualClock, SystemClock
from tickets.database import Database
from tickets.messages import Attachment, Channel, InboundMessage, customer_channels

__all__ = [
    "Attachment",
    "Channel",
    "Clock",
    "Database",
    "InboundMessage",
    "ManualClock",
    "SystemClock",
    "customer_channels",
]
