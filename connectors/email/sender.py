"""Outgoing mail through the configured SMTP relay.

Each mail has a text and an HTML part, our Message-ID (so replies thread), In-Reply-To and
References, the ticket reference in the subject, a Reply-To plus-address with the ticket's
token, and — when no person wrote it — `Auto-Submitted: auto-replied` with
`X-Auto-Response-Suppress: All` (RFC 3834) so that other robots do not answer it.
Header values are stripped of line breaks before they reach the message: a customer's
subject can never inject a header. smtplib is blocking and runs in a thread.
"""

from __future__ import annotations

import asyncio
import html
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, formataddr, make_msgid

from connectors.outbound import SendFailed
from tickets.messages import OutboundMessage


def _one_line(value: str) -> str:
    return " ".join(value.replace("\r", " ").replace("\n", " ").split())


@dataclass(frozen=True, slots=True)
class Relay:
    host: str
    port: int = 587
    starttls: bool = True
    use_ssl: bool = False
    username: str = ""
    password: str = ""
    timeout: float = 30.0
    tls_context: ssl.SSLContext | None = None


def build_message(message: OutboundMessage) -> EmailMessage:
    thread = message.thread
    mail = EmailMessage(policy=SMTP_POLICY)
    mail["From"] = formataddr((_one_line(str(thread.get("from_name") or "")),
                               _one_line(str(thread["from_address"]))))
    mail["To"] = _one_line(message.recipient)
    mail["Subject"] = _one_line(message.subject or message.ticket_ref)
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["Message-ID"] = _one_line(str(thread.get("message_id") or make_msgid()))
    if thread.get("reply_to"):
        mail["Reply-To"] = _one_line(str(thread["reply_to"]))
    if thread.get("in_reply_to"):
        mail["In-Reply-To"] = _one_line(str(thread["in_reply_to"]))
    references = [_one_line(str(r)) for r in thread.get("references") or [] if r]
    if references:
        mail["References"] = " ".join(references)
    if message.automatic:
        mail["Auto-Submitted"] = "auto-replied"
        mail["X-Auto-Response-Suppress"] = "All"
    mail["X-Switchboard-Ticket"] = _one_line(message.ticket_ref)
    mail.set_content(message.text)
    mail.add_alternative(message.html or text_as_html(message.text), subtype="html")
    return mail


def text_as_html(text: str) -> str:
    """The HTML part of a reply written as plain text (from Slack, the portal, the API):
    its paragraphs and line breaks kept, everything escaped. Mail clients that show only
    HTML, and some spam filters that distrust text-only mail, get a proper part."""
    paragraphs = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    body = "\n".join("<p>" + html.escape(p).replace("\n", "<br>\n") + "</p>"
                     for p in paragraphs)
    return ('<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>\n<body style="font-family:'
            ' Arial, Helvetica, sans-serif; font-size: 14px; line-height: 1.5; color: #222;">'
            f"\n{body}\n</body></html>\n")


class SmtpSender:
    def __init__(self, relay: Relay) -> None:
        self.relay = relay

    async def aclose(self) -> None:
        """Each send opens and closes its own SMTP connection: nothing to release."""

    async def send(self, message: OutboundMessage, key: str) -> str | None:
        mail = build_message(message)
        await asyncio.to_thread(self._deliver, mail)
        return str(mail["Message-ID"])

    def _deliver(self, mail: EmailMessage) -> None:
        relay = self.relay
        context = relay.tls_context or ssl.create_default_context()
        try:
            client: smtplib.SMTP
            if relay.use_ssl:
                client = smtplib.SMTP_SSL(relay.host, relay.port, timeout=relay.timeout,
                                          context=context)
            else:
                client = smtplib.SMTP(relay.host, relay.port, timeout=relay.timeout)
            with client:
                if relay.starttls and not relay.use_ssl:
                    client.starttls(context=context)
                if relay.username:
                    client.login(relay.username, relay.password)
                client.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise SendFailed(f"the relay refused the recipient: {exc.recipients}",
                             permanent=True) from exc
        except smtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.smtp_code < 600
            raise SendFailed(f"relay answered {exc.smtp_code} {exc.smtp_error!r}",
                             permanent=permanent) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise SendFailed(f"relay {relay.host}:{relay.port} unreachable: {exc}") from exc
