"""The SMTP receiver (aiosmtpd): the MX or a forwarding rule delivers to Switchboard.

It accepts mail only for our mailboxes and their plus-addresses (`550` otherwise), refuses
oversized mail (`552`, at `MAIL FROM` when the client declares SIZE, after DATA otherwise),
offers STARTTLS and AUTH when configured, and answers `250` only after the message is in
the durable inbox; if that fails it answers `451` so the sending server retries later.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import ssl
from collections.abc import Mapping
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from connectors.email.intake import MailIntake

log = logging.getLogger("switchboard.email.smtp")


class ReceiverHandler:
    def __init__(self, intake: MailIntake) -> None:
        self.intake = intake

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if not self.intake.mailboxes.is_ours(address):
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        if not raw:
            return "554 5.6.0 empty message"
        try:
            taken = await asyncio.to_thread(self.intake.take, bytes(raw),
                                            tuple(envelope.rcpt_tos))
        except Exception:
            log.exception("could not store mail from %s; asked the sender to retry",
                          envelope.mail_from)
            return "451 4.3.0 temporary failure, please retry"
        log.info("mail %s from %s queued%s", taken.message.external_id, envelope.mail_from,
                 "" if taken.new else " (already waiting)")
        return "250 2.0.0 OK queued"


class _LoggedSMTP(SMTP):
    """aiosmtpd refuses oversized mail itself, before any handler hook; a refusal the
    operator never hears of looks like lost mail, so every 552 is logged here."""

    async def push(self, status: Any) -> None:
        text = status.decode("utf-8", "replace") if isinstance(status, bytes) else str(status)
        if text.startswith("552"):
            envelope, session = self.envelope, self.session
            sender = (envelope.mail_from if envelope else None) or "(refused at MAIL FROM)"
            to = ", ".join(envelope.rcpt_tos) if envelope and envelope.rcpt_tos else "-"
            log.warning("refused a mail from %s (client %s) to %s: %s; the sending server "
                        "keeps it and tells its sender", sender,
                        session.peer if session else "?", to, text)
        await super().push(status)


class Authenticator:
    """AUTH PLAIN/LOGIN against configured users, compared in constant time."""

    def __init__(self, users: Mapping[str, str]) -> None:
        self.users = dict(users)

    def __call__(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                 auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode("utf-8", "replace")
        expected = self.users.get(user)
        ok = expected is not None and hmac.compare_digest(
            expected.encode(), auth_data.password)
        return AuthResult(success=ok, handled=False)


async def start_receiver(intake: MailIntake, host: str, port: int, *, max_bytes: int,
                         tls_context: ssl.SSLContext | None = None,
                         require_starttls: bool = False,
                         users: Mapping[str, str] | None = None,
                         auth_required: bool = False,
                         hostname: str | None = None) -> asyncio.Server:
    """Serve inside the running loop (aiosmtpd's Controller cannot, see PLATFORMS.md).
    With `auth_required`, mail is refused (530) until the client logged in as one of
    `users`: for a port that only our forwarder writes to, never for an MX."""
    handler = ReceiverHandler(intake)
    authenticator = Authenticator(users) if users else None

    def factory() -> SMTP:
        return _LoggedSMTP(handler, data_size_limit=max_bytes, tls_context=tls_context,
                    require_starttls=require_starttls, authenticator=authenticator,
                    auth_required=auth_required, auth_require_tls=True, hostname=hostname,
                    enable_SMTPUTF8=True, decode_data=False)

    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, host=host, port=port)
    bound = server.sockets[0].getsockname()
    log.info("SMTP receiver on %s:%s for %s", bound[0], bound[1],
             ", ".join(m.address for m in intake.mailboxes))
    return server
