"""Email wired to the rest: mailboxes from the settings, the intake writing to the inbox,
the SMTP receiver, the IMAP pollers and the SMTP sender for the outbox."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from connectors.email.imap_poller import ImapOptions, ImapPoller
from connectors.email.intake import MailIntake
from connectors.email.mailboxes import Mailbox, Mailboxes
from connectors.email.sender import Relay, SmtpSender
from connectors.email.smtp_receiver import start_receiver
from connectors.files import FileStore
from switchboard.settings import Settings
from tickets import inbox, mail_state
from tickets.clock import Clock
from tickets.database import Database
from tickets.messages import InboundMessage

if TYPE_CHECKING:
    from switchboard.intake.redis_inbox import RedisInbox

log = logging.getLogger("switchboard.email")


def mailboxes(settings: Settings) -> Mailboxes:
    return Mailboxes(Mailbox(m.address.lower(), m.name) for m in settings.email.mailboxes)


def make_intake(settings: Settings, db: Database, clock: Clock,
                on_new: Callable[[], None] | None = None,
                queue: RedisInbox | None = None) -> MailIntake:
    email = settings.email

    def put(message: InboundMessage) -> bool:
        if queue is not None:
            new = queue.put(message)
        else:
            with db.write() as conn:
                new = inbox.put(conn, message, clock.now())
        if new and on_new is not None:
            on_new()
        return new

    return MailIntake(mailboxes(settings),
                      raw_store=FileStore(Path(email.raw_dir), max_bytes=1 << 40),
                      attachments=FileStore(Path(email.attachments.dir),
                                            email.attachments.max_bytes,
                                            email.attachments.max_count),
                      put=put, clock=clock)


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    receiver = settings.email.receiver
    if not (receiver.tls_cert and receiver.tls_key):
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(receiver.tls_cert, receiver.tls_key)
    return context


async def start_smtp(settings: Settings, intake: MailIntake) -> asyncio.Server | None:
    receiver = settings.email.receiver
    if not receiver.enabled or not settings.email.mailboxes:
        log.info("SMTP receiver disabled (email.receiver.enabled or no mailboxes)")
        return None
    return await start_receiver(
        intake, receiver.host, receiver.port, max_bytes=receiver.max_message_bytes,
        tls_context=tls_context(settings), require_starttls=receiver.require_starttls,
        users=dict(receiver.users) or None, auth_required=receiver.auth_required,
        hostname=receiver.hostname)


def pollers(settings: Settings, db: Database, clock: Clock,
            intake: MailIntake) -> list[ImapPoller]:
    def load(mailbox: str, folder: str) -> tuple[int, int] | None:
        with db.read() as conn:
            return mail_state.load(conn, mailbox, folder)

    def save(mailbox: str, folder: str, uidvalidity: int, last_uid: int) -> None:
        with db.write() as conn:
            mail_state.save(conn, mailbox, folder, uidvalidity, last_uid, clock.now())

    result = []
    for box in settings.email.mailboxes:
        if box.imap is None:
            continue
        i = box.imap
        options = ImapOptions(host=i.host, port=i.port, username=i.username,
                              password=i.password, use_ssl=i.ssl, starttls=i.starttls,
                              folder=i.folder, after=i.after, flag=i.flag, move_to=i.move_to,
                              idle=i.idle, poll_seconds=i.poll_interval.total_seconds(),
                              max_message_bytes=i.max_message_bytes,
                              history_older_than=i.history_older_than.total_seconds())
        result.append(ImapPoller(Mailbox(box.address.lower(), box.name), options, intake,
                                 load, save))
    return result


def email_sender(settings: Settings) -> SmtpSender | None:
    relay = settings.email.relay
    if not relay.host:
        log.info("email sending disabled: no email.relay.host (replies wait in the outbox)")
        return None
    return SmtpSender(Relay(host=relay.host, port=relay.port, starttls=relay.starttls,
                            use_ssl=relay.ssl, username=relay.username,
                            password=relay.password,
                            timeout=relay.timeout.total_seconds()))
