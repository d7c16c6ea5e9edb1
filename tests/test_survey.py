"""What counts as an answer to the satisfaction question."""

from __future__ import annotations

import pytest

from switchboard.desk.survey import rating_in


@pytest.mark.parametrize(("text", "rating"), [
    ("5", 5), (" 4 ", 4), ("5 sao", 5), ("3 Sao!", 3), ("4/5", 4), ("5*", 5), ("⭐4", 4),
    ("2 điểm", 2), ("1 diem.", 1), ("5 stars", 5),
])
def test_ratings(text: str, rating: int) -> None:
    assert rating_in(text) == rating


@pytest.mark.parametrize("text", [
    "6", "0", "10", "5 ngày rồi chưa giao hàng", "đơn 5", "cho mình hỏi 5 voucher",
    "", "12345", "5 5",
])
def test_not_ratings(text: str) -> None:
    assert rating_in(text) is None
