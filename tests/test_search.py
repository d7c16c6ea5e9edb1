"""Search reads Vietnamese as agents type it: without diacritics, in any case, `đ` as `d`;
a phone in any spelling, an email or an order code finds the person's tickets; filters
combine; what is typed with diacritics ranks first; erased text is gone from the index."""

from __future__ import annotations

import json
import unicodedata
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from switchboard.bootstrap import Runtime
from switchboard.desk import privacy
from switchboard.web import create_app
from tests.helpers import deliver, message
from tests.test_cli import sb
from tickets import queries, search
from tickets.database import Database

ADMIN = {"Authorization": "Bearer admin-secret"}
WORDS = ["chưa", "nhận", "được", "hàng", "đơn", "giao", "chậm", "hoàn", "tiền", "bán",
         "bạn", "bận", "hỏng", "hồng", "ví", "vì", "điện", "thoại", "Đà", "Nẵng", "quá",
         "lâu", "shop", "voucher", "không", "dùng", "được", "nhé", "ạ", "mình"]


def refs(runtime: Runtime, text: str, **filters: str) -> list[str]:
    with runtime.db.read() as conn:
        page = queries.ticket_page(conn, "MC", queries.TicketFilter(text=text, **filters),
                                   limit=100)
    return [t["ref"] for t in page.items]


@pytest.fixture
def shop(runtime: Runtime, catalog: Database) -> Runtime:
    now = runtime.clock.now()
    deliver(runtime.pipeline,
            message("a", "Tôi CHƯA NHẬN ĐƯỢC HÀNG, đơn DH25220868", channel="zalo",
                    sender="0912345678", when=now),
            message("b", "chua nhan duoc hang luon shop oi", channel="messenger",
                    sender="2001", when=now + timedelta(minutes=1)),
            message("c", "Shop bán hàng giả", channel="email", sender="lan@example.vn",
                    when=now + timedelta(minutes=2), subject="Khiếu nại"),
            message("d", "bạn hàng của tôi nói ok", channel="telegram", sender="3001",
                    when=now + timedelta(minutes=3)),
            message("e", "Điện thoại hỏng màn hình", channel="zalo", sender="0987654321",
                    when=now + timedelta(minutes=4)))
    return runtime


def test_words_match_with_or_without_diacritics_and_in_any_case(shop: Runtime) -> None:
    found = refs(shop, "chua nhan duoc hang")
    assert sorted(found) == ["MC-1", "MC-2"]
    assert sorted(refs(shop, "CHƯA NHẬN ĐƯỢC HÀNG")) == sorted(found)
    assert sorted(refs(shop, "chưa nhận được hàng")) == sorted(found)
    assert refs(shop, "dien thoai") == refs(shop, "điện thoại") == ["MC-5"]
    assert refs(shop, "nhận được hàng xyzzy") == []


def test_what_was_typed_with_its_diacritics_ranks_first(shop: Runtime) -> None:
    assert refs(shop, "bán hàng") == ["MC-3", "MC-4"]  # bán (sell) before bạn (friend)
    assert refs(shop, "bạn hàng") == ["MC-4", "MC-3"]
    assert refs(shop, "ban hang") == ["MC-4", "MC-3"]  # no diacritics: newest first
    assert refs(shop, "hang ban") == ["MC-4", "MC-3"]  # all words, in any order


def test_the_last_word_is_a_prefix_while_it_is_typed(shop: Runtime) -> None:
    assert refs(shop, "dien tho") == ["MC-5"]


def test_a_phone_email_or_order_code_finds_the_person(shop: Runtime) -> None:
    assert refs(shop, "+84 912 345 678") == ["MC-1"]
    assert refs(shop, "0912.345.678") == ["MC-1"]
    assert refs(shop, "LAN@example.vn") == ["MC-3"]
    assert refs(shop, "dh25220868") == ["MC-1"]


def test_filters_combine_with_the_search(shop: Runtime) -> None:
    assert refs(shop, "chua nhan", channel="messenger") == ["MC-2"]
    assert refs(shop, "chua nhan", channel="email") == []


def test_the_api_and_the_command_line_search_alike(shop: Runtime) -> None:
    with TestClient(create_app(shop, run_worker=False)) as client:
        page = client.get("/api/tickets", params={"q": "chua nhan duoc hang"},
                          headers=ADMIN).json()
    assert sorted(t["ref"] for t in page["items"]) == ["MC-1", "MC-2"]
    assert page["total"] == 2 and page["more"] is False
    lines = sb(shop.settings.database.url, "tickets", "list", "--json", "--search",
               "CHUA NHAN").stdout.splitlines()
    assert sorted(json.loads(x)["ref"] for x in lines) == ["MC-1", "MC-2"]


def test_an_erased_customer_cannot_be_found(shop: Runtime) -> None:
    assert refs(shop, "0912345678") == ["MC-1"]
    with shop.db.read() as conn:
        customer = queries.customer_by_identity(conn, "phone", "+84912345678")
    assert customer is not None
    privacy.erase(shop.db, shop.settings, customer, "admin", "cli", "test", shop.clock.now())
    assert refs(shop, "0912345678") == []
    assert refs(shop, "chua nhan duoc hang") == ["MC-2"]
    assert refs(shop, "DH25220868") == []


def _strip(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.lists(st.sampled_from(WORDS), min_size=2, max_size=8),
                      min_size=1, max_size=12),
       pick=st.tuples(st.integers(0, 100), st.integers(0, 100)))
def test_without_diacritics_finds_exactly_what_with_diacritics_finds(
        db: Database, texts: list[list[str]], pick: tuple[int, int]) -> None:
    """Over generated Vietnamese text: a two-word query typed without diacritics (and in
    upper case) finds the same tickets as the query typed with them."""
    with db.write() as conn:
        conn.exec_driver_sql("DELETE FROM messages")
    rows = [" ".join(words) for words in texts]
    from datetime import UTC, datetime

    from tickets import store
    from tickets.schema import customers, tickets

    now = datetime(2026, 12, 1, tzinfo=UTC)
    with db.write() as conn:
        conn.exec_driver_sql("DELETE FROM tickets")
        conn.exec_driver_sql("DELETE FROM customers")
        conn.execute(customers.insert().values(id=1, created_at=now))
        for i, row in enumerate(rows, start=1):
            conn.execute(tickets.insert().values(
                id=i, status="open", channel="zalo", category="inquiry", department="x",
                priority="normal", customer_id=1, sender_kind="customer", confidence=1.0,
                rules=[], tags=[], sla_level="none", created_at=now, updated_at=now))
            store.add_message(conn, {"ticket_id": i, "direction": "in", "channel": "zalo",
                                     "external_id": f"g{i}", "author": "x",
                                     "author_kind": "customer", "subject": None, "text": row,
                                     "attachments": [], "classification": None, "meta": None,
                                     "created_at": now})
    source = texts[pick[0] % len(texts)]
    start = pick[1] % (len(source) - 1)
    typed = f"{source[start]} {source[start + 1]}"
    with db.read() as conn:
        def found(query: str) -> set[int]:
            page = queries.ticket_page(conn, "MC", queries.TicketFilter(text=query), 500)
            return {int(t["ref"].split("-")[1]) for t in page.items}
        with_marks = found(typed)
        assert with_marks  # the ticket it was taken from, at least
        assert found(_strip(typed)) == with_marks
        assert found(_strip(typed).upper()) == with_marks
        assert found(typed.upper()) == with_marks
    assert search.fold(typed) == search.fold(_strip(typed))


@pytest.mark.parametrize("window", [3, 20, 40])
def test_the_newest_window_first_changes_nothing_found(
        db: Database, monkeypatch: pytest.MonkeyPatch, window: int) -> None:
    """PostgreSQL looks for the first page among the newest messages first (a bound on a
    planner's bad guess; SQLite never needs it): whatever the window, the same messages
    come back, newest first, filters applied, none twice and none skipped."""
    from datetime import UTC, datetime

    from tickets import store
    from tickets.schema import customers, tickets

    now = datetime(2026, 12, 1, tzinfo=UTC)
    with db.write() as conn:
        conn.execute(customers.insert().values(id=1, created_at=now))
        for i in range(1, 401):
            conn.execute(tickets.insert().values(
                id=i, status="open", channel="zalo", category="inquiry",
                department="logistics" if i % 3 == 0 else "front_line", priority="normal",
                customer_id=1, sender_kind="customer", confidence=1.0, rules=[], tags=[],
                sla_level="none", created_at=now, updated_at=now))
            # "giao hàng" is dense among the newest messages and sparse before them
            text = ("giao hàng chậm quá" if i % (2 if i > 340 else 50) == 0
                    else "hoàn tiền giúp mình" if i % 4 == 1 else "giao dịch lỗi"
                    if i % 4 == 3 else "chào shop")
            store.add_message(conn, {"ticket_id": i, "direction": "in", "channel": "zalo",
                                     "external_id": f"w{i}", "author": "x",
                                     "author_kind": "customer", "subject": None, "text": text,
                                     "attachments": [], "classification": None, "meta": None,
                                     "created_at": now})
    wanted = [(q, where, limit) for q in ("giao hang", "giao", "hoan tien", "chao shop")
              for where in (None, tickets.c.department == "logistics")
              for limit in (1, 4, 9, 50, 200)]

    def read() -> list[list[tuple[int, int]]]:
        with db.read() as conn:
            return [search.newest_matching(conn, q, None, limit, where)
                    for q, where, limit in ((search.parse(q), w, n) for q, w, n in wanted)
                    if q is not None]

    monkeypatch.setattr(search, "WINDOW", 10**9)  # never: the planner alone
    expected = read()
    monkeypatch.setattr(search, "WINDOW", window)
    got = read()
    assert got == expected
    for rows in got:
        ids = [m for m, _ in rows]
        assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
