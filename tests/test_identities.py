from __future__ import annotations

import pytest

from tickets.identities import IdentityKind, normalize_email, normalize_phone, sender_identity


@pytest.mark.parametrize("spelling", [
    "0912 345 678", "+84912345678", "84-912-345-678", "0912.345.678", "(+84) 91 234 5678",
    "+84 912 345 678", "84912345678",
])
def test_vietnamese_mobile_spellings_become_one_e164(spelling: str) -> None:
    assert normalize_phone(spelling) == "+84912345678"


def test_landline_with_area_code() -> None:
    assert normalize_phone("(028) 3822 1234") == "+842838221234"


@pytest.mark.parametrize("junk", ["", "12345", "hello", "0912-abc-678", "++84"])
def test_not_a_phone(junk: str) -> None:
    assert normalize_phone(junk) is None


def test_email_is_lower_cased_and_checked() -> None:
    assert normalize_email(" <Lan.Nguyen@Gmail.COM> ") == "lan.nguyen@gmail.com"
    assert normalize_email("not an address") is None


def test_sender_identity_by_shape_then_channel() -> None:
    assert sender_identity("email", "A@B.vn") == (IdentityKind.EMAIL, "a@b.vn")
    assert sender_identity("zalo", "0912 345 678") == (IdentityKind.PHONE, "+84912345678")
    assert sender_identity("zalo", "8495484537490329012") == (IdentityKind.ZALO,
                                                              "8495484537490329012")
    assert sender_identity("messenger", "6512398745123") == (IdentityKind.MESSENGER,
                                                             "6512398745123")


@pytest.mark.parametrize(("channel", "sender", "kind"), [
    ("telegram", "2265885395", IdentityKind.TELEGRAM),   # a Telegram id is not a phone
    ("messenger", "1234567890", IdentityKind.MESSENGER),
    ("telegram", "84936259172", IdentityKind.TELEGRAM),  # bare digits on a platform: an id
    ("zalo", "0936 259 172", IdentityKind.PHONE),        # written as a phone: a phone
    ("zalo", "+84 936 259 172", IdentityKind.PHONE),
    ("phone", "84936259172", IdentityKind.PHONE),        # on the phone channel, any spelling
])
def test_platform_ids_are_not_mistaken_for_phones(channel: str, sender: str,
                                                  kind: IdentityKind) -> None:
    assert sender_identity(channel, sender)[0] is kind
