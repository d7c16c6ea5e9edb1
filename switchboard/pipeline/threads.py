"""Which ticket a message continues.

In order of how sure we can be: a reply token from our own Reply-To plus-address, a ticket
reference quoted in the subject or text (`[#MC-12]`), the platform message ids it answers
(email In-Reply-To/References, including ours), the platform conversation (a post and its
commenter), and — on chat channels — the customer's open ticket on that channel. A match
counts only if the writer is the ticket's customer or one of its participants: a newsletter
answered by many people never lands in a stranger's ticket. A reply to a ticket closed long
ago opens a new ticket linked to the old one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from switchboard.pipeline.batch import Batch
from switchboard.settings import Settings
from tickets import store
from tickets.messages import Channel, InboundMessage
from tickets.refs import find_refs, format_ref, parse_ref, parse_reply_token
from tickets.store import CLOSED_STATUSES, TicketHead


def may_join(batch: Batch, head: TicketHead, customer_id: int | None, sender: str) -> bool:
    """Whether the writer is the ticket's customer or one of its participants: what a
    reply's evidence needs beside it, so that a newsletter answered by many never lands in
    a stranger's ticket."""
    return head.customer_id == customer_id or batch.is_participant(head.id, sender)


@dataclass(frozen=True, slots=True)
class Thread:
    ticket: TicketHead | None
    reason: str
    linked_to: int | None = None


class Threader:
    def __init__(self, settings: Settings, secret: bytes) -> None:
        self.settings = settings
        self.secret = secret
        self.prefix = settings.tickets.ref_prefix

    def find(self, conn: Connection, batch: Batch, message: InboundMessage, customer_id: int,
             sender: str, first_contact: bool, now: datetime) -> Thread:
        channel = message.channel.value
        named = message.meta.get("ticket") if channel == Channel.PHONE.value else None
        if named:  # an agent logging a call said which ticket it belongs to
            head = store.get_head(conn, parse_ref(named) or 0)
            if head is not None:
                return self._continue(head, f"the agent filed the call under {named}", now)
        for ticket_id, how, _quoted in self.hints(batch, message):
            head = store.get_head(conn, ticket_id)
            if head is None:
                continue
            if may_join(batch, head, customer_id, sender):
                return self._continue(head, how, now)
        if message.conversation:
            head = store.latest_by_thread_key(conn, message.conversation)
            if head is not None and head.customer_id == customer_id:
                return self._continue(head, f"same conversation {message.conversation}", now)
        if not first_contact and channel in self.settings.threading.join_by_customer:
            since = now - self.settings.threading.join_open_within
            # a caller is calling about what they already wrote, on whatever channel
            on = None if channel == Channel.PHONE.value else channel
            head = store.latest_open_for_customer(conn, customer_id, on, since)
            if head is not None:
                return Thread(head, f"the customer's open {head.channel} ticket")
            if on is not None:  # their ticket here was merged into one on another channel
                head = store.merged_target_for_customer(conn, customer_id, on, since)
                if head is not None:
                    return Thread(head, f"the ticket their {channel} ticket was merged into")
        return Thread(None, "new conversation")

    def hints(self, batch: Batch, message: InboundMessage) -> list[tuple[int, str, bool]]:
        """Candidate tickets in the order the evidence deserves: the message ids it answers,
        our signed Reply-To token, then a reference quoted in the subject or text (the
        last flag: anyone can type a reference, nobody can guess the others). Whether the
        writer may join one is the caller's question."""
        hints: list[tuple[int, str, bool]] = []
        if message.thread_keys:
            replied = batch.ticket_of_message(message.channel.value, message.thread_keys)
            if replied is not None:
                hints.append((replied, "reply to an earlier message of the ticket", False))
        token = message.meta.get("reply_token")
        if token:
            ticket_id = parse_reply_token(token, self.secret)
            if ticket_id is not None:
                hints.append((ticket_id, "reply to our address for the ticket", False))
        haystack = f"{message.subject or ''}\n{message.text[:2000]}"
        if "-" in haystack:
            hints += [(t, f"ticket reference {format_ref(self.prefix, t)} quoted", True)
                      for t in find_refs(haystack, self.prefix)]
        return hints

    def _continue(self, head: TicketHead, reason: str, now: datetime) -> Thread:
        if head.status not in CLOSED_STATUSES:
            return Thread(head, reason)
        closed_at = head.closed_at or head.updated_at
        if now - closed_at <= self.settings.threading.reopen_within:
            return Thread(head, reason + "; the ticket was closed recently and is reopened")
        return Thread(None, reason + f"; that ticket was closed on {closed_at:%Y-%m-%d}, so a "
                      "new ticket is opened and linked to it", linked_to=head.id)
