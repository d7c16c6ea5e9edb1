from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from tickets import catalog
from tickets.catalog import ImportFailed
from tickets.clock import ManualClock
from tickets.database import Database
from tickets.schema import orders, supplier_contacts, suppliers

SUPPLIERS = """supplier_id,name,aliases,emails,phones
SUP1,Nhà hàng Sen,Sen Tay Ho|buffet Sen,cskh@sen.vn,028 3822 1234|0903 123 456
SUP2,Spa Hương Thảo,,info@huongthao.vn,
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def import_suppliers(db: Database, path: Path, clock: ManualClock) -> catalog.ImportResult:
    rows = catalog.parse_suppliers(path)
    with db.write() as conn:
        return catalog.write_suppliers(conn, rows, clock.now())


def test_suppliers_import_and_reimport_updates(db: Database, tmp_path: Path,
                                              clock: ManualClock) -> None:
    first = import_suppliers(db, write(tmp_path, "s.csv", SUPPLIERS), clock)
    assert (first.inserted, first.updated) == (2, 0)
    changed = SUPPLIERS.replace("Nhà hàng Sen,", "Nhà hàng Sen Tây Hồ,").replace(
        "0903 123 456", "0909 999 888")
    second = import_suppliers(db, write(tmp_path, "s2.csv", changed), clock)
    assert (second.inserted, second.updated) == (0, 2)
    with db.read() as conn:
        loaded = {s.id: s for s in catalog.load_suppliers(conn)}
    assert loaded["SUP1"].name == "Nhà hàng Sen Tây Hồ"
    assert set(loaded["SUP1"].phones) == {"+842838221234", "+84909999888"}
    assert loaded["SUP1"].aliases == ("Sen Tay Ho", "buffet Sen")


def test_bad_rows_are_all_reported_and_nothing_is_written(db: Database, tmp_path: Path) -> None:
    bad = SUPPLIERS + "SUP3,,,not-an-email,12\nSUP1,Again,,,\n"
    with pytest.raises(ImportFailed) as failure:
        catalog.parse_suppliers(write(tmp_path, "bad.csv", bad))
    problems = failure.value.problems
    assert "line 4: supplier SUP3 has no name" in problems
    assert "line 4: 'not-an-email' is not an email address" in problems
    assert "line 4: '12' is not a valid phone number" in problems
    assert "line 5: supplier_id SUP1 repeats line 2" in problems
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(suppliers)).scalar() == 0


def test_missing_column_and_encoding(tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="missing column"):
        catalog.parse_suppliers(write(tmp_path, "x.csv", "supplier_id,name\nA,B\n"))
    latin = tmp_path / "latin.csv"
    latin.write_bytes("supplier_id,name,aliases,emails,phones\nA,Nh\xe0,,,\n".encode("latin-1"))
    with pytest.raises(ImportFailed, match="not UTF-8"):
        catalog.parse_suppliers(latin)


def test_orders_import_validates_and_upserts(db: Database, tmp_path: Path,
                                            clock: ManualClock) -> None:
    import_suppliers(db, write(tmp_path, "s.csv", SUPPLIERS), clock)
    text = ("order_code,supplier_id,product,customer_phone,customer_email,amount\n"
            "DH20260001,SUP1,Buffet tối,0912 345 678,Lan@Gmail.com,499000\n"
            "dh20260002,SUP2,Massage,+84 912 345 678,,1.250.000\n")
    rows = catalog.parse_orders(write(tmp_path, "o.csv", text), ["SUP1", "SUP2"])
    with db.write() as conn:
        result = catalog.write_orders(conn, rows, clock.now())
    assert (result.inserted, result.updated) == (2, 0)
    with db.read() as conn:
        found = catalog.orders_for_contacts(conn, ["+84912345678"], [])
        assert [(o.code, o.amount) for o in found] == [("DH20260001", 499000),
                                                        ("DH20260002", 1250000)]
    bad = text.replace("SUP2,Massage", "SUP9,Massage").replace("499000", "abc")
    with pytest.raises(ImportFailed) as failure:
        catalog.parse_orders(write(tmp_path, "bad.csv", bad), ["SUP1", "SUP2"])
    assert failure.value.problems == [
        "line 2: amount 'abc' is not a non-negative amount in VND",
        "line 3: unknown supplier_id 'SUP9' (import suppliers first)",
    ]


def test_contact_held_by_another_supplier_rolls_back(db: Database, tmp_path: Path,
                                                    clock: ManualClock) -> None:
    import_suppliers(db, write(tmp_path, "s.csv", SUPPLIERS), clock)
    thief = "supplier_id,name,aliases,emails,phones\nSUP9,Other,,cskh@sen.vn,\n"
    with pytest.raises(ImportFailed, match="already a contact of supplier SUP1"):
        import_suppliers(db, write(tmp_path, "t.csv", thief), clock)
    with db.read() as conn:
        assert conn.execute(select(suppliers.c.id).where(suppliers.c.id == "SUP9")).first() is None
        assert conn.execute(select(func.count()).select_from(supplier_contacts)).scalar() == 4
        assert conn.execute(select(func.count()).select_from(orders)).scalar() == 0


def test_tracking_columns_are_optional_and_a_file_without_them_keeps_them(
        db: Database, tmp_path: Path, clock: ManualClock) -> None:
    import_suppliers(db, write(tmp_path, "s.csv", SUPPLIERS), clock)
    head = "order_code,supplier_id,product,customer_phone,customer_email,amount"
    tracked = (f"{head},status,status_at,carrier,tracking_code,expected_at\n"
               "MC200416,SUP2,Kem chống nắng,0912 345 678,,350000,Shipping,"
               "2026-12-02T09:30:00+07:00,GHN,GHN8812345,2026-12-05\n"
               "DH20260003,SUP1,Buffet,,,1,,,,,\n")
    with db.write() as conn:
        catalog.write_orders(conn, catalog.parse_orders(write(tmp_path, "t.csv", tracked),
                                                        ["SUP1", "SUP2"]), clock.now())
    plain = f"{head}\nMC200416,SUP2,Kem chống nắng SPF50,0912 345 678,,360000\n"
    with db.write() as conn:
        catalog.write_orders(conn, catalog.parse_orders(write(tmp_path, "p.csv", plain),
                                                        ["SUP1", "SUP2"]), clock.now())
    with db.read() as conn:
        row = conn.execute(select(orders).where(orders.c.code == "MC200416")).one()
    assert (row.product, row.status, row.carrier, row.tracking_code) == (
        "Kem chống nắng SPF50", "shipping", "GHN", "GHN8812345")
    assert row.status_at.isoformat() == "2026-12-02T02:30:00+00:00"
    assert row.expected_at.isoformat() == "2026-12-04T17:00:00+00:00"  # midnight in Vietnam
    bad = tracked.replace("Shipping", "lost").replace("2026-12-05", "next week")
    with pytest.raises(ImportFailed) as failure:
        catalog.parse_orders(write(tmp_path, "b.csv", bad), ["SUP1", "SUP2"])
    assert failure.value.problems == [
        "line 2: status 'lost' is not one of placed, confirmed, shipping, delivered, "
        "cancelled, returned, refunded",
        "line 2: expected_at 'next week' is not an ISO-8601 time"]
