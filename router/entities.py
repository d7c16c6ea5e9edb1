"""Entities written inside a message: order codes, phone numbers, email addresses.

Order codes follow a configurable pattern (the marketplace's own, `DH` + 8 digits by
default) and come out in one canonical spelling so `dh 20261234`, `#DH20261234` and
`ĐH-20261234` all find the same order. Phone candidates are found by a cheap regex and only
then parsed by libphonenumber, which is far too slow to run over whole messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tickets.identities import normalize_email, normalize_phone

_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_DIGIT = re.compile(r"\d")
_PHONE = re.compile(r"(?<![\w+])(?:\+?84|0)(?:[\s.-]?\d){8,10}(?!\d)")


@dataclass(frozen=True, slots=True)
class OrderCodePattern:
    """`pattern` must capture the code's significant part in group 1; `template` rebuilds
    the canonical code from it (`DH{0}`)."""

    pattern: str
    template: str

    def compile(self) -> re.Pattern[str]:
        compiled = re.compile(self.pattern, re.IGNORECASE)
        if compiled.groups < 1:
            raise ValueError(f"order code pattern {self.pattern!r} needs a capture group")
        return compiled


@dataclass(frozen=True, slots=True)
class Entities:
    order_codes: tuple[str, ...]
    phones: tuple[str, ...]
    emails: tuple[str, ...]


class EntityExtractor:
    def __init__(self, order_patterns: list[OrderCodePattern]) -> None:
        # a pattern that needs a digit is skipped on text without one (most chat messages)
        self._orders = [(p.compile(), p.template, "\\d" in p.pattern) for p in order_patterns]

    def __call__(self, text: str) -> Entities:
        codes: dict[str, None] = {}
        phones: dict[str, None] = {}
        digits = _DIGIT.search(text) is not None
        for regex, template, needs_digit in self._orders:
            if digits or not needs_digit:
                for match in regex.finditer(text):
                    codes[template.format(match.group(1)).upper()] = None
        if digits:
            for match in _PHONE.finditer(text):
                phone = normalize_phone(match.group(0))
                if phone:
                    phones[phone] = None
        emails: dict[str, None] = {}
        if "@" in text:
            for match in _EMAIL.finditer(text):
                email = normalize_email(match.group(0))
                if email:
                    emails[email] = None
        return Entities(tuple(codes), tuple(phones), tuple(emails))
