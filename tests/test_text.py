from __future__ import annotations

import pytest

from router.text import Normalizer, fold, fold_tokens

TEENCODE = {"ko": "không", "k": "không", "dh": "đơn hàng", "đh": "đơn hàng", "sp": "sản phẩm",
            "ncc": "nhà cung cấp", "tt": "thanh toán", "dc": "được", "đc": "được"}


@pytest.mark.parametrize(("raw", "folded"), [
    ("Giao hàng CHẬM", "giao hang cham"),
    ("Đơn hàng đã được giao", "don hang da duoc giao"),
    ("Giao ha\u0300ng cha\u0323m", "giao hang cham"),  # NFD input (macOS)
    ("ĐẶT PHÒNG", "dat phong"),
])
def test_fold_removes_marks_and_d_stroke(raw: str, folded: str) -> None:
    assert fold(raw) == folded


def test_fold_tokens_squeezes_repeated_letters() -> None:
    assert fold_tokens("chậmmmm quáaaa, tệeeee") == ["cham", "qua", "te"]
    assert fold_tokens("room xoong") == ["room", "xoong"]  # pairs are real spelling


def test_normalizer_expands_teencode_in_both_forms() -> None:
    norm = Normalizer(TEENCODE)
    text = norm("sp ko dùng đc, dh chưa tt")
    assert text.tokens == ("san", "pham", "khong", "dung", "duoc", "don", "hang", "chua",
                           "thanh", "toan")
    assert text.words[:3] == ("sản", "phẩm", "không")
    assert text.padded.startswith(" san pham khong ")


def test_teencode_keys_match_as_written_only() -> None:
    norm = Normalizer({"rep": "trả lời"})
    assert norm("shop rep chậm").tokens == ("shop", "tra", "loi", "cham")
    assert norm("phòng có rệp").tokens == ("phong", "co", "rep")  # rệp (bedbug) is not 'rep'


def test_teencode_key_must_be_one_word() -> None:
    with pytest.raises(ValueError, match="one word"):
        Normalizer({"ko ko": "không"})


def test_squeeze_keeps_marks_of_first_letter() -> None:
    text = Normalizer({})("tệ quáaaa")
    assert text.words == ("tệ", "quá")
