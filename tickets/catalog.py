"""Suppliers and orders imported from the marketplace's CSV exports.

An import is all or nothing: every row is checked first and every problem is reported with
its line number; only a clean file is written, in one transaction, as an upsert so that
re-importing an updated export updates the rows in place.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tickets.fastsql import FastSelect
from tickets.identities import normalize_email, normalize_phone
from tickets.schema import orders, supplier_contacts, suppliers

SUPPLIER_COLUMNS = ("supplier_id", "name", "aliases", "emails", "phones")
ORDER_COLUMNS = ("order_code", "supplier_id", "product", "customer_phone", "customer_email",
                 "amount")
TRACKING_COLUMNS = ("status", "status_at", "carrier", "tracking_code", "expected_at")
ORDER_STATUSES = ("placed", "confirmed", "shipping", "delivered", "cancelled", "returned",
                  "refunded")
VIETNAM = timezone(timedelta(hours=7))  # a time written without an offset is Vietnam's
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_THOUSANDS = re.compile(r"^\d{1,3}([.,]\d{3})+$")


class ImportFailed(Exception):
    """The file was not imported; `problems` lists every bad line."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems[:20]))
        self.problems = list(problems)


@dataclass(frozen=True, slots=True)
class SupplierRow:
    line: int
    supplier_id: str
    name: str
    aliases: tuple[str, ...]
    emails: tuple[str, ...]
    phones: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Tracking:
    """Where an order is, as the shop's system says: the optional columns of the orders
    import and the body of `POST /api/orders`."""
    status: str | None = None
    status_at: datetime | None = None
    carrier: str | None = None
    tracking_code: str | None = None
    expected_at: datetime | None = None

    def values(self) -> dict[str, Any]:
        return {c: getattr(self, c) for c in TRACKING_COLUMNS}


@dataclass(frozen=True, slots=True)
class OrderRow:
    line: int
    code: str
    supplier_id: str
    product: str
    customer_phone: str | None
    customer_email: str | None
    amount: int
    tracking: Tracking | None = None  # None: the file had no tracking columns, keep what is


@dataclass(frozen=True, slots=True)
class ImportResult:
    rows: int
    inserted: int
    updated: int


def _read_rows(path: Path, columns: Sequence[str]) -> list[tuple[int, dict[str, str]]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailed(
            [f"{path}: not UTF-8 (byte {exc.start}); save the file as CSV UTF-8"]
        ) from exc
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in columns if c not in header]
    if missing:
        raise ImportFailed([f"line 1: missing column(s) {', '.join(missing)}; "
                            f"expected {','.join(columns)}"])
    reader.fieldnames = header
    rows = []
    for row in reader:
        if not any((v or "").strip() for k, v in row.items() if k is not None):
            continue
        if None in row:
            raise ImportFailed([f"line {reader.line_num}: more fields than the header has"])
        rows.append((reader.line_num, {k: (v or "").strip() for k, v in row.items()}))
    return rows


def _split(value: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in value.split("|") if p.strip())


def parse_suppliers(path: Path) -> list[SupplierRow]:
    problems: list[str] = []
    result: list[SupplierRow] = []
    seen: dict[str, int] = {}
    contact_owner: dict[tuple[str, str], tuple[str, int]] = {}
    for line, row in _read_rows(path, SUPPLIER_COLUMNS):
        sid, name = row["supplier_id"], row["name"]
        if not _ID.match(sid):
            problems.append(f"line {line}: supplier_id {sid!r} must be 1-64 letters, digits, "
                            "'_', '.' or '-'")
            continue
        if sid in seen:
            problems.append(f"line {line}: supplier_id {sid} repeats line {seen[sid]}")
            continue
        seen[sid] = line
        if not name:
            problems.append(f"line {line}: supplier {sid} has no name")
        emails: list[str] = []
        for raw in _split(row["emails"]):
            email = normalize_email(raw)
            if email is None:
                problems.append(f"line {line}: {raw!r} is not an email address")
            else:
                emails.append(email)
        phones: list[str] = []
        for raw in _split(row["phones"]):
            phone = normalize_phone(raw)
            if phone is None:
                problems.append(f"line {line}: {raw!r} is not a valid phone number")
            else:
                phones.append(phone)
        for kind, value in [("email", e) for e in emails] + [("phone", p) for p in phones]:
            owner = contact_owner.get((kind, value))
            if owner and owner[0] != sid:
                problems.append(f"line {line}: {kind} {value} is also supplier {owner[0]}'s "
                                f"(line {owner[1]})")
            contact_owner[(kind, value)] = (sid, line)
        result.append(SupplierRow(line, sid, name, _split(row["aliases"]),
                                  tuple(dict.fromkeys(emails)), tuple(dict.fromkeys(phones))))
    if problems:
        raise ImportFailed(problems)
    return result


def parse_amount(raw: str) -> int:
    text = raw.replace(" ", "").replace("_", "")
    if _THOUSANDS.match(text):
        return int(re.sub(r"[.,]", "", text))
    value = Decimal(text)
    if value < 0 or value != value.quantize(Decimal("0.01")):
        raise InvalidOperation(raw)
    return int(value.to_integral_value())


def parse_orders(path: Path, known_suppliers: Iterable[str]) -> list[OrderRow]:
    known = set(known_suppliers)
    problems: list[str] = []
    result: list[OrderRow] = []
    seen: dict[str, int] = {}
    for line, row in _read_rows(path, ORDER_COLUMNS):
        code = row["order_code"].upper()
        if not _ID.match(code):
            problems.append(f"line {line}: order_code {row['order_code']!r} is not a code")
            continue
        if code in seen:
            problems.append(f"line {line}: order {code} repeats line {seen[code]}")
            continue
        seen[code] = line
        if row["supplier_id"] not in known:
            problems.append(f"line {line}: unknown supplier_id {row['supplier_id']!r} "
                            "(import suppliers first)")
        if not row["product"]:
            problems.append(f"line {line}: order {code} has no product")
        phone = None
        if row["customer_phone"]:
            phone = normalize_phone(row["customer_phone"])
            if phone is None:
                problems.append(f"line {line}: {row['customer_phone']!r} is not a valid phone")
        email = None
        if row["customer_email"]:
            email = normalize_email(row["customer_email"])
            if email is None:
                problems.append(f"line {line}: {row['customer_email']!r} is not an email")
        try:
            amount = parse_amount(row["amount"])
        except (InvalidOperation, ValueError):
            problems.append(f"line {line}: amount {row['amount']!r} is not a non-negative "
                            "amount in VND")
            amount = 0
        tracking = _tracking(row, line, problems) if "status" in row else None
        result.append(OrderRow(line, code, row["supplier_id"], row["product"], phone, email,
                               amount, tracking))
    if problems:
        raise ImportFailed(problems)
    return result


def _tracking(row: dict[str, str], line: int, problems: list[str]) -> Tracking:
    status = row.get("status", "").lower() or None
    if status is not None and status not in ORDER_STATUSES:
        problems.append(f"line {line}: status {status!r} is not one of "
                        f"{', '.join(ORDER_STATUSES)}")
        status = None
    times: dict[str, datetime | None] = {}
    for name in ("status_at", "expected_at"):
        try:
            times[name] = parse_time(row.get(name, ""))
        except ValueError:
            problems.append(f"line {line}: {name} {row[name]!r} is not an ISO-8601 time")
            times[name] = None
    return Tracking(status, times["status_at"], row.get("carrier") or None,
                    row.get("tracking_code") or None, times["expected_at"])


def parse_time(raw: str) -> datetime | None:
    """ISO-8601 (`2026-12-03T09:30:00+07:00`, or a date); without an offset, Vietnam's."""
    if not raw.strip():
        return None
    value = datetime.fromisoformat(raw.strip())
    return (value if value.tzinfo else value.replace(tzinfo=VIETNAM)).astimezone(UTC)


def _insert(conn: Connection):  # type: ignore[no-untyped-def]
    return pg_insert if conn.dialect.name == "postgresql" else sqlite_insert


def write_suppliers(conn: Connection, rows: Sequence[SupplierRow], now: datetime) -> ImportResult:
    ids = [r.supplier_id for r in rows]
    existing = set(conn.execute(select(suppliers.c.id).where(suppliers.c.id.in_(ids))).scalars())
    if rows:
        stmt = _insert(conn)(suppliers)
        stmt = stmt.on_conflict_do_update(
            index_elements=["id"],
            set_={"name": stmt.excluded.name, "aliases": stmt.excluded.aliases,
                  "updated_at": stmt.excluded.updated_at},
        )
        conn.execute(stmt, [{"id": r.supplier_id, "name": r.name, "aliases": list(r.aliases),
                             "updated_at": now} for r in rows])
        conn.execute(delete(supplier_contacts).where(supplier_contacts.c.supplier_id.in_(ids)))
        contacts = [{"supplier_id": r.supplier_id, "kind": "email", "value": e}
                    for r in rows for e in r.emails]
        contacts += [{"supplier_id": r.supplier_id, "kind": "phone", "value": p}
                     for r in rows for p in r.phones]
        clashes = _contact_clashes(conn, contacts)
        if clashes:
            raise ImportFailed(clashes)
        if contacts:
            conn.execute(supplier_contacts.insert(), contacts)
    return ImportResult(rows=len(rows), inserted=len(set(ids) - existing),
                        updated=len(existing))


def _contact_clashes(conn: Connection, contacts: list[dict[str, str]]) -> list[str]:
    values = [c["value"] for c in contacts]
    if not values:
        return []
    held = conn.execute(
        select(supplier_contacts.c.kind, supplier_contacts.c.value,
               supplier_contacts.c.supplier_id).where(supplier_contacts.c.value.in_(values))
    ).all()
    wanted = {(c["kind"], c["value"]): c["supplier_id"] for c in contacts}
    return [f"{h.kind} {h.value} is already a contact of supplier {h.supplier_id}"
            for h in held if wanted.get((h.kind, h.value), h.supplier_id) != h.supplier_id]


def write_orders(conn: Connection, rows: Sequence[OrderRow], now: datetime) -> ImportResult:
    codes = [r.code for r in rows]
    existing: set[str] = set()
    for start in range(0, len(codes), 5000):
        chunk = codes[start:start + 5000]
        existing.update(conn.execute(select(orders.c.code)
                                     .where(orders.c.code.in_(chunk))).scalars())
    for tracked in (False, True):  # a file without tracking columns keeps what is there
        columns = ["supplier_id", "product", "customer_phone", "customer_email", "amount",
                   "updated_at", *(TRACKING_COLUMNS if tracked else ())]
        stmt = _insert(conn)(orders)
        stmt = stmt.on_conflict_do_update(
            index_elements=["code"], set_={c: getattr(stmt.excluded, c) for c in columns})
        payload = [{"code": r.code, "supplier_id": r.supplier_id, "product": r.product,
                    "customer_phone": r.customer_phone, "customer_email": r.customer_email,
                    "amount": r.amount, "updated_at": now,
                    **(r.tracking.values() if r.tracking else {})}
                   for r in rows if (r.tracking is not None) == tracked]
        for start in range(0, len(payload), 5000):
            conn.execute(stmt, payload[start:start + 5000])
    return ImportResult(rows=len(rows), inserted=len(set(codes) - existing),
                        updated=len(existing))


@dataclass(frozen=True, slots=True)
class SupplierRecord:
    id: str
    name: str
    aliases: tuple[str, ...]
    emails: tuple[str, ...]
    phones: tuple[str, ...]


def load_suppliers(conn: Connection) -> list[SupplierRecord]:
    contacts: dict[str, dict[str, list[str]]] = {}
    for c in conn.execute(select(supplier_contacts.c.supplier_id, supplier_contacts.c.kind,
                                 supplier_contacts.c.value)):
        contacts.setdefault(c.supplier_id, {}).setdefault(c.kind, []).append(c.value)
    return [
        SupplierRecord(
            id=r.id, name=r.name, aliases=tuple(r.aliases or ()),
            emails=tuple(contacts.get(r.id, {}).get("email", ())),
            phones=tuple(contacts.get(r.id, {}).get("phone", ())),
        )
        for r in conn.execute(select(suppliers.c.id, suppliers.c.name, suppliers.c.aliases)
                              .order_by(suppliers.c.id))
    ]


def supplier_of_contact(conn: Connection, kind: str, value: str) -> str | None:
    row = conn.execute(select(supplier_contacts.c.supplier_id).where(
        supplier_contacts.c.kind == kind, supplier_contacts.c.value == value)).first()
    return None if row is None else str(row.supplier_id)


_ORDER_BY_CODE = FastSelect(select(orders.c.code, orders.c.supplier_id, orders.c.product)
                            .where(orders.c.code == bindparam("code")))
_ORDERS_BY_CODES = select(orders.c.code, orders.c.supplier_id, orders.c.product).where(
    orders.c.code.in_(bindparam("codes", expanding=True)))
# A message names a handful of candidate codes: that many indexed lookups straight on the
# cursor cost less than one expanding IN built through SQLAlchemy (~150 µs of Python).
_FEW_CODES = 8


def _by_code(conn: Connection, codes: Sequence[str], one: FastSelect, many: Any
             ) -> list[Sequence[Any]]:
    """The rows (code first) of the orders with these codes, in the order of `codes`
    when they are few (one lookup each), else as one expanding IN returns them."""
    if len(codes) > _FEW_CODES:
        return list(conn.execute(many, {"codes": list(codes)}).all())
    return [r for r in (one.first(conn, {"code": c}) for c in codes) if r is not None]


def orders_by_code(conn: Connection, codes: Sequence[str]) -> dict[str, tuple[str, str]]:
    """code → (supplier_id, product) for the codes that exist."""
    rows = _by_code(conn, list(dict.fromkeys(codes)), _ORDER_BY_CODE, _ORDERS_BY_CODES)
    return {r[0]: (r[1], r[2]) for r in rows}


@dataclass(frozen=True, slots=True)
class OrderRef:
    code: str
    supplier_id: str
    product: str
    amount: int
    phone: str | None = None
    email: str | None = None


def orders_for_contacts(
    conn: Connection, phones: Sequence[str], emails: Sequence[str]
) -> list[OrderRef]:
    """Orders placed with any of these phones or emails (how orders know their customer)."""
    found: dict[str, OrderRef] = {}
    for query, contacts in ((_ORDERS_BY_PHONE, phones), (_ORDERS_BY_EMAIL, emails)):
        for contact in contacts:  # a customer has a handful: one indexed lookup each
            for row in query.all(conn, {"contact": contact}):
                found[row[0]] = OrderRef(row[0], row[1], row[2], int(row[3]), row[4], row[5])
    return [found[code] for code in sorted(found)]


_ORDER_COLUMNS = (orders.c.code, orders.c.supplier_id, orders.c.product, orders.c.amount,
                  orders.c.customer_phone, orders.c.customer_email)
_ORDERS_BY_PHONE = FastSelect(select(*_ORDER_COLUMNS)
                              .where(orders.c.customer_phone == bindparam("contact")))
_ORDERS_BY_EMAIL = FastSelect(select(*_ORDER_COLUMNS)
                              .where(orders.c.customer_email == bindparam("contact")))


@dataclass(frozen=True, slots=True)
class TrackedOrder:
    """An order with where it is (the bot's order-status answer) and whose it is."""
    code: str
    supplier_id: str
    product: str
    phone: str | None
    email: str | None
    tracking: Tracking


_TRACKED_COLUMNS = (orders.c.code, orders.c.supplier_id, orders.c.product,
                    orders.c.customer_phone, orders.c.customer_email,
                    *(orders.c[c] for c in TRACKING_COLUMNS))
_TRACKED = FastSelect(select(*_TRACKED_COLUMNS).where(orders.c.code == bindparam("code")))
_TRACKED_MANY = select(*_TRACKED_COLUMNS).where(
    orders.c.code.in_(bindparam("codes", expanding=True)))


def tracked_orders(conn: Connection, codes: Sequence[str]) -> dict[str, TrackedOrder]:
    """code → the order, for the codes the store holds (whatever their shape)."""
    rows = _by_code(conn, sorted(set(codes)), _TRACKED, _TRACKED_MANY)
    return {r[0]: TrackedOrder(r[0], r[1], r[2], r[3], r[4], Tracking(*r[5:])) for r in rows}
