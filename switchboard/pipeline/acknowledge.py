"""The automatic "we received your request" answer to a new ticket.

Never to robots (auto-replies, bounces, our own mailboxes), never when the sender asked for
no automatic answers (`X-Auto-Response-Suppress`), and rate-limited per address (at most
`max_per_sender` in `window`, and `max_per_subject` for the same subject), because two
autoresponders answering each other is how mail loops start. In the customer's language.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from router.language import detect_language
from switchboard import channels
from switchboard.outbox.compose import (
    EmailThread,
    clean_subject,
    compose_chat,
    compose_email,
    record_outbound,
)
from switchboard.outbox.templates import Templates
from switchboard.settings import Settings
from switchboard.timefmt import spoken
from tickets import outbox
from tickets.messages import Channel, InboundMessage
from tickets.refs import format_ref
from tickets.store import JournalEntry


class Acknowledger:
    def __init__(self, settings: Settings, secret: bytes, templates: Templates) -> None:
        self.settings = settings
        self.secret = secret
        self.templates = templates

    def after_open(self, conn: Connection, ticket_id: int, department: str,
                   message: InboundMessage, customer_name: str | None,
                   now: datetime, opens_at: datetime | None = None) -> JournalEntry | None:
        """`opens_at`: when people next work, given when the message came out of hours
        (the acknowledgement then says when they will answer)."""
        opens = self.opening(opens_at)
        conversation = channels.conversation(message.channel)
        if conversation is not None and conversation.acknowledges:
            return self._chat(conn, ticket_id, department, message, customer_name, now, opens)
        if message.channel is not Channel.EMAIL:
            return None
        policy = self.settings.email.acknowledgements
        if not policy.enabled:
            return None
        why_not = self.why_not_automatic(conn, message, now)
        if why_not:
            return JournalEntry("acknowledgement", f"no acknowledgement: {why_not}")
        address = message.meta.get("reply_to") or message.sender
        lang = detect_language(f"{message.subject or ''}\n{message.text}")
        mailbox = message.recipient or (self.settings.email.mailboxes[0].address
                                        if self.settings.email.mailboxes else "")
        names = {m.address.lower(): m.name for m in self.settings.email.mailboxes}
        thread = EmailThread(
            mailbox=mailbox, mailbox_name=names.get(mailbox.lower(), ""),
            customer_address=address, subject=message.subject or "",
            in_reply_to=message.external_id,
            references=(*reversed(message.thread_keys), message.external_id))
        ref = format_ref(self.settings.tickets.ref_prefix, ticket_id)
        departments = self.settings.routing.departments
        text = self.templates.text(
            "email/ack", lang, name=customer_name, ref=ref,
            department=departments[department].name if department in departments
            else department, mailbox_name=thread.mailbox_name or mailbox, **opens)
        subject = clean_subject(message.subject or "") or ref
        html = self.templates.html(text, subject, lang)
        composed = compose_email(self.settings, self.secret, ticket_id, thread, text, html,
                                 automatic=True)
        record_outbound(conn, ticket_id=ticket_id, message=composed, kind="ack",
                        author=thread.mailbox_name or mailbox, now=now)
        return JournalEntry("acknowledgement", f"acknowledgement ({lang}) queued to {address}",
                            data={"language": lang, "to": address})

    def why_not_automatic(self, conn: Connection, message: InboundMessage, now: datetime
                          ) -> str | None:
        """Why no automatic answer may go to this email (a robot, a sender who asked for
        none, the rate limits), or None: the acknowledgement and the bot both ask."""
        meta = message.meta
        if meta.get("auto") or meta.get("own"):
            return "the sender is a robot"
        if meta.get("suppress_auto_response"):
            return "the sender asked for no automatic replies (X-Auto-Response-Suppress)"
        policy = self.settings.email.acknowledgements
        address = meta.get("reply_to") or message.sender
        if address.endswith("@invalid"):  # the mail named no one to answer
            return "the mail has no sender address"
        if meta.get("no_reply"):
            return f"{address} takes no answers (no-reply)"
        since = now - policy.window
        if outbox.sent_recently(conn, "email", address, "ack", since) >= policy.max_per_sender:
            return f"{address} already had {policy.max_per_sender} in {policy.window}"
        subject = self._subject_of(message)
        if subject and outbox.sent_recently(conn, "email", address, "ack", since,
                                            subject=subject) >= policy.max_per_subject:
            return f"{address} already had {policy.max_per_subject} for this subject"
        return None

    def _chat(self, conn: Connection, ticket_id: int, department: str,
              message: InboundMessage, customer_name: str | None,
              now: datetime, opens: dict[str, str | None]) -> JournalEntry | None:
        """A short acknowledgement on a chat channel that acknowledges (Messenger, Telegram,
        Zalo), in the customer's language, at most `max_per_sender` per `window` (the email
        limits)."""
        spec = channels.spec_of(message.channel)
        assert spec is not None
        channel_settings = spec.settings(self.settings.channels)
        if not (channel_settings.enabled and channel_settings.acknowledge):
            return None
        policy = self.settings.email.acknowledgements
        if outbox.sent_recently(conn, message.channel.value, message.sender, "ack",
                                now - policy.window) >= policy.max_per_sender:
            return JournalEntry("acknowledgement", f"no acknowledgement: {message.sender} "
                                f"already had {policy.max_per_sender} in {policy.window}")
        lang = message.meta.get("language", "")[:2] or detect_language(message.text)
        lang = lang if lang in ("vi", "en") else "vi"
        departments = self.settings.routing.departments
        ref = format_ref(self.settings.tickets.ref_prefix, ticket_id)
        text = self.templates.text(
            "chat/ack", lang, name=customer_name, ref=ref,
            department=departments[department].name if department in departments
            else department, **opens)
        meta = {**message.meta, "from": message.sender}
        composed = compose_chat(self.settings, ticket_id, message.channel, meta, text,
                                automatic=True)
        record_outbound(conn, ticket_id=ticket_id, message=composed, kind="ack",
                        author="switchboard", now=now)
        return JournalEntry("acknowledgement", f"acknowledgement ({lang}) queued on "
                            f"{message.channel.value}", data={"language": lang})

    def opening(self, opens_at: datetime | None) -> dict[str, str | None]:
        """The template values that say when people answer (None during working hours)."""
        if opens_at is None:
            return {"opens_at": None, "opens_at_en": None}
        zone = self.settings.zone
        return {"opens_at": spoken(opens_at, zone, "vi"), "opens_at_en": spoken(opens_at, zone,
                                                                             "en")}

    @staticmethod
    def _subject_of(message: InboundMessage) -> str:
        return clean_subject(message.subject or "").casefold()
