"""One way in for every raw mail (SMTP receiver, IMAP poller, `ingest-eml`): parse, keep
the raw message and the attachments, then put the message in the durable inbox. Returns
only after the inbox committed, so the caller may then say 250 or flag the mail."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from connectors.email.inbound import to_inbound
from connectors.email.mailboxes import Mailboxes
from connectors.email.parse import parse
from connectors.files import FileStore
from tickets.clock import Clock
from tickets.messages import InboundMessage

log = logging.getLogger("switchboard.email")


@dataclass(frozen=True, slots=True)
class Taken:
    message: InboundMessage
    new: bool  # False when the same Message-ID was already waiting in the inbox


class MailIntake:
    def __init__(self, mailboxes: Mailboxes, raw_store: FileStore, attachments: FileStore,
                 put: Callable[[InboundMessage], bool], clock: Clock) -> None:
        self.mailboxes = mailboxes
        self.raw_store = raw_store
        self.attachments = attachments
        self.put = put
        self.clock = clock

    def take(self, raw: bytes, envelope_recipients: tuple[str, ...] = (),
             history: bool = False) -> Taken:
        """Blocking (parsing, files, database): call it in a thread from async code.
        `history`: old mail found in a mailbox, kept on tickets but never acknowledged."""
        mail = parse(raw)
        _, raw_path = self.raw_store.put(raw, suffix=".eml")
        message = to_inbound(mail, mailboxes=self.mailboxes, received_at=self.clock.now(),
                             raw_path=str(raw_path), files=self.attachments,
                             envelope_recipients=envelope_recipients)
        if history:
            message = message.as_history()
        if mail.problems:
            log.warning("mail %s from %s: %s", message.external_id, mail.from_address,
                        "; ".join(mail.problems))
        return Taken(message, self.put(message))
