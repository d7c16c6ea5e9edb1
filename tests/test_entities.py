from __future__ import annotations

from router.entities import EntityExtractor, OrderCodePattern

EXTRACT = EntityExtractor([OrderCodePattern(r"(?<![A-Za-z0-9])[DĐ]H[\s#:.-]{0,2}(\d{8})(?!\d)",
                                            "DH{0}")])


def test_order_codes_in_any_spelling_become_canonical() -> None:
    text = ("mã đơn DH20261234, đơn #dh 20261235 và ĐH-20261236; "
            "không phải DH2026123 hay XDH20261237")
    assert EXTRACT(text).order_codes == ("DH20261234", "DH20261235", "DH20261236")


def test_phones_and_emails_in_text() -> None:
    found = EXTRACT("gọi lại cho em số 0912 345 678 hoặc mail Lan@Gmail.com nhé, đơn 125000đ")
    assert found.phones == ("+84912345678",)
    assert found.emails == ("lan@gmail.com",)


def test_amounts_are_not_phones() -> None:
    assert EXTRACT("trừ tiền 2 lần 1.250.000đ và 499000").phones == ()
