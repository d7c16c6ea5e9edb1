"""A parsed mail becomes an `InboundMessage`.

The dedup key is the Message-ID (or the raw message's SHA-256 when a sender omits it), so
the same mail arriving by SMTP and by IMAP is one message. The text is the new part of a
reply; the raw message stays in the file store and its path travels in `meta`, with what the
pipeline needs to thread (`thread_keys` = In-Reply-To and References, `reply_token` from a
plus-address) and to stay out of mail loops (`auto`, `bounced_message_id`,
`suppress_auto_response`, `own`). The customer is the address answers go to: Reply-To when
it names someone else than From (whose address is kept in `from_address`).
"""

from __future__ import annotations

import re
from datetime import datetime

from connectors.email.mailboxes import Mailbox, Mailboxes
from connectors.email.parse import ParsedMail
from connectors.email.replies import latest_reply
from connectors.files import FileStore
from tickets.messages import Channel, InboundMessage

_NO_REPLY = re.compile(r"(no[-_.]?reply|do[-_.]?not[-_.]?reply)[-_.+0-9]*@", re.IGNORECASE)


def to_inbound(mail: ParsedMail, *, mailboxes: Mailboxes, received_at: datetime,
               raw_path: str | None, files: FileStore | None,
               envelope_recipients: tuple[str, ...] = ()) -> InboundMessage:
    found = mailboxes.first_of((*envelope_recipients, *mail.to, *mail.cc))
    mailbox: Mailbox | None = found[0] if found else None
    token = found[1] if found else None
    attachments = tuple(
        files.attach(part.filename, part.content_type, part.payload, index)
        for index, part in enumerate(mail.attachments)
    ) if files is not None else ()
    text = latest_reply(mail.text)
    if not text.strip():
        text = mail.subject or "(no text)"
    meta: dict[str, str] = {"sha256": mail.sha256}
    if raw_path:
        meta["raw_path"] = raw_path
    if token:
        meta["reply_token"] = token
    if mail.auto:
        meta["auto"] = mail.auto
    if mail.bounced_message_id:
        meta["bounced_message_id"] = mail.bounced_message_id
    if mail.suppress_auto_response:
        meta["suppress_auto_response"] = "1"
    # "answer me here", naming someone other than From and not us, names the customer: a
    # web form's mailer writes From one no-reply address (or ours) for everybody, with each
    # person in Reply-To; linking the two would make one customer of all of them
    answer_to = (mail.reply_to if mail.reply_to and mail.reply_to != mail.from_address
                 and not mailboxes.is_ours(mail.reply_to) else None)
    if mailboxes.is_ours(mail.from_address) and answer_to is None:
        meta["own"] = "1"
    sender, sender_name = mail.from_address, mail.from_name
    if sender and _NO_REPLY.match(sender) and not mail.reply_to:
        # a mailer that takes no answers (a web form, a notification): nobody to
        # acknowledge, and the addresses in its text are its visitors', not its own
        meta["no_reply"] = "1"
    if answer_to is not None:
        meta["reply_to"] = answer_to
        meta["from_address"] = mail.from_address or ""
        sender, sender_name = answer_to, mail.reply_to_name
    participants = [a for a in (*mail.to, *mail.cc) if not mailboxes.is_ours(a)]
    if participants:
        meta["participants"] = ",".join(dict.fromkeys(participants))
    if mail.problems:
        meta["problems"] = "; ".join(mail.problems)[:1000]
    thread_keys = mail.thread_ids
    if mail.bounced_message_id and mail.bounced_message_id not in thread_keys:
        thread_keys = (mail.bounced_message_id, *thread_keys)
    return InboundMessage(
        channel=Channel.EMAIL,
        external_id=mail.message_id or f"<sha256.{mail.sha256}@switchboard.invalid>",
        sender=sender or "unknown@invalid",
        sender_name=sender_name,
        text=text,
        subject=mail.subject or None,
        received_at=received_at,
        recipient=mailbox.address if mailbox else None,
        thread_keys=thread_keys,
        attachments=attachments,
        meta=meta,
    )
