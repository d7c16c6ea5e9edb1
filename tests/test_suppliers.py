from __future__ import annotations

from router.suppliers import SupplierCatalog, SupplierEntry
from router.text import Normalizer

NORM = Normalizer({"ks": "khách sạn"})
CATALOG = SupplierCatalog([
    SupplierEntry("SUP001", "Nhà hàng Sen Tây Hồ", ("Sen Tay Ho", "Sen", "buffet Sen")),
    SupplierEntry("SUP002", "Buffet Lẩu Nướng Hoàng Gia", ("Hoang Gia buffet",)),
    SupplierEntry("SUP003", "Khách sạn Hoàng Gia Hạ Long", ("Hoang Gia Ha Long",)),
    SupplierEntry("SUP004", "Spa Hương Thảo", ("Huong Thao spa",), emails=("cskh@huongthao.vn",),
                  phones=("+84903123456",)),
    SupplierEntry("SUP005", "Điện máy Thành Đạt", ("Thanh Dat",)),
    SupplierEntry("SUP006", "Mường Thanh Luxury", ()),
], NORM)


def ids(text: str) -> list[str]:
    return [m.supplier_id for m in CATALOG.find(NORM(text))]


def test_exact_name_with_and_without_diacritics() -> None:
    assert ids("đồ ăn ở Nhà hàng Sen Tây Hồ dở")[0] == "SUP001"
    assert ids("do an o nha hang sen tay ho do")[0] == "SUP001"


def test_business_word_dropped_from_name() -> None:
    assert ids("massage ở Hương Thảo đau quá") == ["SUP004"]


def test_generic_alias_alone_does_not_match() -> None:
    assert ids("mua hoa sen tặng mẹ") == []  # `Sen` alone names no shop


def test_longer_name_beats_shared_words() -> None:
    assert ids("khách sạn Hoàng Gia Hạ Long phòng bẩn")[0] == "SUP003"
    assert ids("buffet lau nuong hoang gia") [0] == "SUP002"


def test_typo_in_distinctive_word_is_tolerated() -> None:
    found = CATALOG.find(NORM("ở Muonq Thanh luxury phòng cũ"))
    assert found[0].supplier_id == "SUP006"
    assert not found[0].exact


def test_typo_in_common_word_is_not_a_match() -> None:
    assert ids("thanh toan loi") == []
    assert ids("Muong Thahn luxury") == []  # `thanh` is too common to bend


def test_contacts() -> None:
    assert CATALOG.by_contact("cskh@huongthao.vn") == "SUP004"
    assert CATALOG.by_contact("+84903123456") == "SUP004"
    assert CATALOG.by_contact("+84900000000") is None
