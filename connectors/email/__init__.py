"""Email: the hotro@ and contact@ mailboxes, in (SMTP receiver, IMAP poller) and out (SMTP).

Raw mail becomes an `InboundMessage` here and nowhere else; nothing in this package knows
about rules, tickets' threading policy or SLAs.
"""
