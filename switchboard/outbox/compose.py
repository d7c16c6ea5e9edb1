"""Answers to customers: composed for the ticket's channel, written as a ticket message and
an outbox row in the caller's transaction (DESIGN invariant 1), sent later by the dispatcher.

Email answers come from the mailbox the customer wrote to, thread into the customer's mail
client (`In-Reply-To`, `References`, `Re: [#MC-12] subject`), and carry a Reply-To
plus-address with the ticket's signed token, so a reply threads even if a provider rewrites
our Message-ID.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, select

from switchboard import channels
from switchboard.settings import Settings
from tickets import outbox, store
from tickets.fastsql import FastSelect
from tickets.messages import Channel, OutboundMessage
from tickets.refs import format_ref, reply_token
from tickets.schema import messages, tickets

_SUBJECT_PREFIX = re.compile(
    r"^\s*((re|fw|fwd|tr|trả lời|chuyển tiếp)\s*:\s*|\[#[A-Za-z]+-\d+\]\s*)+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class EmailThread:
    mailbox: str
    mailbox_name: str
    customer_address: str
    subject: str
    in_reply_to: str | None
    references: tuple[str, ...]


def clean_subject(subject: str) -> str:
    """One line, without our reference and without stacked Re:/Fwd: prefixes."""
    one_line = " ".join(subject.replace("\r", " ").replace("\n", " ").split())
    return _SUBJECT_PREFIX.sub("", one_line).strip()


# Every automatic answer is composed on the pipeline's hot path: these run on the cursor.
_EMAIL_ROWS = FastSelect(
    select(messages.c.direction, messages.c.external_id, messages.c.author_kind,
           messages.c.meta)
    .where(messages.c.ticket_id == bindparam("ticket_id"),
           messages.c.channel == Channel.EMAIL.value)
    .order_by(messages.c.id))
_TICKET_SUBJECT = FastSelect(select(tickets.c.subject)
                             .where(tickets.c.id == bindparam("ticket_id")))
_TICKET_CHANNEL = FastSelect(select(tickets.c.channel)
                             .where(tickets.c.id == bindparam("ticket_id")))
_LAST_INBOUND = FastSelect(
    select(messages.c.meta, messages.c.created_at)
    .where(messages.c.ticket_id == bindparam("ticket_id"), messages.c.direction == "in",
           messages.c.channel == bindparam("channel"))
    .order_by(messages.c.id.desc()).limit(1))


def email_thread(conn: Connection, settings: Settings, ticket_id: int) -> EmailThread | None:
    """Who to answer and how to thread, from the ticket's email messages."""
    # Only the writer's own mail says where answers go: robots and our own addresses'
    # mail (kept on the ticket as "system"), and a supplier's answer to the desk, are on
    # the ticket too, and an answer to them would reach the wrong person.
    rows = [(direction, external_id, meta or {}) for direction, external_id, author_kind, meta
            in _EMAIL_ROWS.all(conn, {"ticket_id": ticket_id})
            if direction == "out" or (author_kind != "system"
                                      and not (meta or {}).get("to_desk"))]
    inbound = [r for r in rows if r[0] == "in"]
    if not inbound:
        return None
    _, last_id, meta = inbound[-1]
    mailbox = meta.get("recipient") or _default_mailbox(settings)
    names = {m.address.lower(): m.name for m in settings.email.mailboxes}
    subject = _TICKET_SUBJECT.scalar(conn, {"ticket_id": ticket_id}) or ""
    references = tuple(dict.fromkeys(r[1] for r in rows if r[1]))[-20:]
    return EmailThread(mailbox=mailbox, mailbox_name=names.get(mailbox.lower(), ""),
                       customer_address=meta.get("reply_to") or meta.get("from") or "",
                       subject=subject, in_reply_to=last_id, references=references)


def _default_mailbox(settings: Settings) -> str:
    boxes = settings.email.mailboxes
    return boxes[0].address if boxes else "support@localhost"


def compose_email(settings: Settings, secret: bytes, ticket_id: int, thread: EmailThread,
                  text: str, html: str | None, automatic: bool,
                  subject: str | None = None) -> OutboundMessage:
    ref = format_ref(settings.tickets.ref_prefix, ticket_id)
    local, _, domain = thread.mailbox.partition("@")
    id_domain = settings.email.message_id_domain or domain or "localhost"
    title = clean_subject(subject or thread.subject) or ref
    return OutboundMessage(
        channel=Channel.EMAIL, recipient=thread.customer_address, text=text, html=html,
        ticket_ref=ref, subject=f"Re: [#{ref}] {title}", automatic=automatic,
        thread={
            "message_id": f"<{ref.lower()}.{uuid.uuid4().hex[:16]}@{id_domain}>",
            "from_address": thread.mailbox, "from_name": thread.mailbox_name,
            "reply_to": f"{local}+{reply_token(ticket_id, secret)}@{domain}",
            "in_reply_to": thread.in_reply_to, "references": list(thread.references),
            "subject_key": title.casefold(),
        })


def record_outbound(conn: Connection, *, ticket_id: int, message: OutboundMessage, kind: str,
                    author: str, now: datetime) -> tuple[int, int]:
    """The answer as a ticket message (what the agent sees) and an outbox row (what the
    dispatcher sends); returns their ids."""
    external_id = message.thread.get("message_id")
    message_id = store.add_message(conn, {
        "ticket_id": ticket_id, "direction": "out", "channel": message.channel.value,
        "external_id": external_id, "author": author,
        "author_kind": "system" if message.automatic else "agent",
        "subject": message.subject, "text": message.text, "attachments": [],
        "classification": None, "meta": {"kind": kind, "delivery": "queued",
                                         "to": message.recipient},
        "created_at": now})
    outbox_id = outbox.enqueue(conn, ticket_id=ticket_id, message=message, kind=kind, now=now,
                               message_id=message_id)
    return message_id, outbox_id


class CannotReply(Exception):
    """A reply that cannot be composed (no channel support yet, nobody to write to)."""


def compose_chat(settings: Settings, ticket_id: int, channel: Channel, meta: dict[str, str],
                 text: str, automatic: bool) -> OutboundMessage:
    """An answer on a chat or comment channel, addressed (by the channel's registry entry)
    from the metadata of the customer's own message."""
    conversation, spec = channels.conversation(channel), channels.spec_of(channel)
    if conversation is None or spec is None:
        raise CannotReply(f"{channel} is not a chat channel")
    recipient, thread = conversation.address(meta, spec.settings(settings.channels))
    return OutboundMessage(channel=channel, recipient=recipient, text=text,
                           ticket_ref=format_ref(settings.tickets.ref_prefix, ticket_id),
                           automatic=automatic, thread=thread)


def compose_reply(conn: Connection, settings: Settings, secret: bytes, ticket_id: int,
                  text: str, html: str | None = None,
                  now: datetime | None = None, automatic: bool = False) -> OutboundMessage:
    """An answer on the channel the customer wrote on: an agent's, or the bot's
    (`automatic`: marked so on email, so the customer's autoresponder keeps quiet)."""
    channel = _TICKET_CHANNEL.scalar(conn, {"ticket_id": ticket_id})
    if channel == Channel.EMAIL.value:
        thread = email_thread(conn, settings, ticket_id)
        if thread is None or not thread.customer_address:
            raise CannotReply("the ticket has no email from the customer to answer")
        return compose_email(settings, secret, ticket_id, thread, text, html,
                             automatic=automatic)
    conversation = channels.conversation(str(channel))
    if conversation is None:
        raise CannotReply(f"a {channel} ticket is answered outside Switchboard "
                          "(call the customer back, or answer on another channel)")
    last = _LAST_INBOUND.first(conn, {"ticket_id": ticket_id, "channel": channel})
    if last is None:
        raise CannotReply(f"the ticket has no {channel} message from the customer to answer")
    last_meta, last_at = last
    window = conversation.reply_window
    if window is not None and now is not None and now - last_at > window:
        hours = (now - last_at).total_seconds() / 3600
        raise CannotReply(f"outside {conversation.label}'s {window.total_seconds() / 3600:.0f}"
                          f"-hour window: the customer last wrote {hours:.0f} hours ago, so "
                          f"{conversation.label} would refuse the answer; ask them to write "
                          "again, or answer on another channel")
    return compose_chat(settings, ticket_id, Channel(channel), dict(last_meta or {}), text,
                        automatic=automatic)
