"""Identity values in one canonical spelling, so one customer is found however they write.

Vietnamese numbers arrive as `0912 345 678`, `+84912345678`, `84-912-345-678`, `(028) 3822 1234`:
`phonenumbers` (Google's libphonenumber metadata) turns them all into E.164, which is the
only form we store. Emails are stored lower-cased: mailbox local parts are case-insensitive
in practice at every provider our customers use.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache

import phonenumbers

DEFAULT_REGION = "VN"

_EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_PHONEISH = re.compile(r"^[+()\d][\d\s()+./-]{6,24}$")


class IdentityKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    MESSENGER = "messenger"
    FACEBOOK = "facebook"
    TELEGRAM = "telegram"
    ZALO = "zalo"
    WEB = "web"
    API = "api"


def normalize_email(value: str) -> str | None:
    """Lower-cased address, or None when it is not an address at all."""
    candidate = value.strip().strip("<>").strip()
    if not _EMAIL.match(candidate):
        return None
    return candidate.lower()


@lru_cache(maxsize=65536)  # libphonenumber costs ~50 µs a call; senders repeat
def normalize_phone(value: str, region: str = DEFAULT_REGION) -> str | None:
    """E.164 (`+84912345678`) for anything that is a valid number, else None.

    `84-912-345-678` has no `+` but is a Vietnamese number written internationally;
    libphonenumber reads it as national unless we give it the plus, so we try both.
    """
    raw = value.strip()
    if not raw or not _PHONEISH.match(raw):
        return None
    digits = re.sub(r"\D", "", raw)
    international = raw.find("+") != -1 and raw.find("+") < re.search(r"\d", raw).start()  # type: ignore[union-attr]
    attempts = ["+" + digits] if international else [digits]
    if not international and digits.startswith("84") and len(digits) >= 10:
        attempts.append("+" + digits)
    for attempt in attempts:
        try:
            number = phonenumbers.parse(attempt, region)
        except phonenumbers.NumberParseException:
            continue
        # Valid by libphonenumber's range metadata, or at least of a possible length: the
        # metadata lags newly opened ranges (it rejects some 089x MobiFone numbers), and
        # refusing a customer's real number would split their identity.
        if phonenumbers.is_valid_number(number) or phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


CHANNEL_IDENTITY_KIND: dict[str, IdentityKind] = {
    "email": IdentityKind.EMAIL,
    "phone": IdentityKind.PHONE,
    "messenger": IdentityKind.MESSENGER,
    "facebook_comment": IdentityKind.FACEBOOK,
    "telegram": IdentityKind.TELEGRAM,
    "zalo": IdentityKind.ZALO,
    "web_comment": IdentityKind.WEB,
    "api": IdentityKind.API,
}


def sender_identity(channel: str, sender: str) -> tuple[IdentityKind, str]:
    """The identity a sender address stands for on a channel.

    `from` is an email address, a phone number, or the platform's own user id: an address
    is recognised on any channel, a phone number on the phone and API channels in any
    spelling and on the platforms when written as a phone (Zalo users are often known by
    phone); anything else is an id scoped to the channel's platform.
    """
    email = normalize_email(sender)
    if email:
        return IdentityKind.EMAIL, email
    if channel in _ANY_SPELLING or _written_as_phone(sender):
        phone = normalize_phone(sender)
        if phone:
            return IdentityKind.PHONE, phone
    kind = CHANNEL_IDENTITY_KIND.get(channel, IdentityKind.API)
    return kind, sender.strip()


_ANY_SPELLING = frozenset({"phone", "api", "email"})


def _written_as_phone(value: str) -> bool:
    """On platforms whose user ids are numbers (Telegram's `2265885395`), only a number
    written the way people write phones is one: with `+`, a leading 0, or 84 and nine more
    digits."""
    text = value.strip()
    digits = re.sub(r"\D", "", text)
    return text.startswith(("+", "(+", "0")) or (digits.startswith("84") and len(digits) == 11
                                                  and not text.isdigit())
