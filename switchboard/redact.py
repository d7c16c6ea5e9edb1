"""Logs without customers' contact details: phone numbers and email addresses in a log
line at INFO or above are masked (`+8491****678`, `l***@gmail.com`), as Vietnam's Personal
Data Protection Law asks of data that is not needed where it is written. DEBUG (`-v`) keeps
them: a person debugging asked for detail, on their own terminal.

Installed by the CLI on the handler it configures, so it covers every logger, ours and the
libraries', and the tracebacks of logged exceptions.
"""

from __future__ import annotations

import logging
import re

_EMAIL = re.compile(r"([A-Za-z0-9._%+'-])[A-Za-z0-9._%+'-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
# E.164 (+84912345678) and Vietnamese national numbers (0912345678, 0912 345 678)
_PHONE = re.compile(r"(?<![\w+])(\+\d{4}|0\d{3})([\d .-]{1,12})(\d{3})(?!\d)")


def mask(text: str) -> str:
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


class RedactingFormatter(logging.Formatter):
    """The standard formatter, masking contact details in records at INFO and above."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return mask(text) if record.levelno >= logging.INFO else text
