"""What the pipeline decided for one message (`Outcome`, returned to the runner and the
CLI) and for its ticket (`Decision`, handed from the deciding stage to the journal and the
after-effects)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tickets.store import JournalEntry

# Outcome.action, every value the pipeline returns:
#   created    the message opened a new ticket
#   joined     the message continued an existing ticket (reopening it if it was closed)
#   rated      the message was the answer (1..5) to a satisfaction question: kept, not reopened
#   recorded   a robot's mail (auto-reply, bounce, our own address) or a supplier's emailed
#              answer, kept on the ticket it concerns and not answered
#   ignored    a robot's mail that concerns no ticket of ours (answering it starts loops)
#   duplicate  the platform's id was processed before: a replay, a no-op
#   failed     an error; the message stays in the inbox and is retried later
#   dead       failed `worker.max_attempts` times: dead-lettered, a person must look
ACTIONS = frozenset({"created", "joined", "rated", "recorded", "ignored", "duplicate",
                     "failed", "dead"})


@dataclass(frozen=True, slots=True)
class Outcome:
    channel: str
    external_id: str
    action: str
    ticket_id: int | None = None
    ref: str | None = None
    category: str | None = None
    topic: str | None = None
    supplier_id: str | None = None
    department: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class TicketView:
    """The ticket as the message left it: what the outcome and the agents' cards show."""
    id: int
    category: str
    topic: str | None
    supplier_id: str | None
    department: str


@dataclass(frozen=True, slots=True)
class Decision:
    """`action` is created, joined or rated; `entries` are the ticket's new journal lines,
    in order."""
    action: str
    ticket: TicketView
    entries: Sequence[JournalEntry] = field(default=())
    bot: Any = None  # pipeline.bot.BotTurn when the bot had a part
