"""Finding tickets by what was written in them, as agents type: without diacritics, in any
case (`chua nhan duoc hang` finds `Chưa nhận được hàng`; `đ` is `d`), or by a phone in any
spelling, an email address or an order code.

Every message keeps a folded copy of its subject and text (`messages.folded`), written with
the message. SQLite indexes it with FTS5 (an external-content table, `messages_fts`, kept in
step by triggers, so the pipeline's own transaction updates it and an erasure removes it);
PostgreSQL with a GIN index on its words (a stored generated column). Both match whole words, the
last one also as a prefix when it has three letters or more (`hoan tie` finds `hoàn tiền`
while it is typed).

Results come newest first. An index cannot order a common word's million matches by date
cheaply, so the search walks the matching messages from the newest backwards in growing
steps, filters applied in the same query, and stops when a page is full: the first page of
a two-word query on two million messages costs milliseconds, not a sort of every match.
Within a page, tickets whose text has the query exactly as typed (diacritics included)
come first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, column, select, table, text

from tickets.schema import messages, tickets

_MARKS = re.compile(r"[\u0300-\u036f]")
_WORD = re.compile(r"[^\W_]+")
_ORDER_CODE = re.compile(r"^[a-z]{1,4}[-#]?\d{4,}$")
MAX_TOTAL = 1_000  # tickets found through a phone, an email or an order code, at most


def fold(value: str) -> str:
    """`Chưa NHẬN được hàng` → `chua nhan duoc hang`: what the index holds and the query
    is turned into."""
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "d"))
    return " ".join(_WORD.findall(_MARKS.sub("", decomposed).casefold()))


def folded(subject: str | None, body: str) -> str:
    return fold(f"{subject or ''}\n{body}")


@dataclass(frozen=True, slots=True)
class Query:
    words: tuple[str, ...]  # folded
    typed: str  # as typed (NFC, lower case), for ranking exact matches first

    @property
    def prefix(self) -> bool:
        """The last word is read as the start of a word when it has three letters or more
        (`hoan tie`): a shorter one (`a`, `ko`) would expand to thousands of words."""
        return len(self.words[-1]) >= 3

    def fts5(self) -> str:
        """An FTS5 MATCH expression: every word, the last perhaps as a prefix."""
        quoted = [f'"{w}"' for w in self.words]
        if self.prefix:
            quoted[-1] += " *"
        return " AND ".join(quoted)

    def tsquery(self) -> str:
        last = f"{self.words[-1]}:*" if self.prefix else self.words[-1]
        return " & ".join([*self.words[:-1], last])


def parse(value: str) -> Query | None:
    words = tuple(fold(value).split())
    if not words:
        return None
    return Query(words[:12], unicodedata.normalize("NFC", value).strip().lower())


def looks_like_order_code(value: str) -> bool:
    return bool(_ORDER_CODE.match(fold(value).replace(" ", "")))


_FTS = table("messages_fts", column("rowid"))


# On PostgreSQL the first step walks the newest WINDOW messages by id before it lets the
# planner choose (below): ~10 ms at most (~0.45 µs a message), however wrong the planner's
# guess. On the search bench 20,000 did better than 10,000 and 50,000 at p50 and p95.
WINDOW = 20_000


def newest_matching(conn: Connection, query: Query, below: int | None, limit: int,
                    where: Any = None) -> list[tuple[int, int]]:
    """(message id, ticket id) of the newest matching messages with ids below `below` whose
    ticket passes `where` (the filters, a condition on `tickets`), at most `limit` of them.
    FTS5 walks its index backwards from `below`; PostgreSQL's planner walks the primary key
    backwards for a common word and the GIN index for a rare one, from its statistics."""
    top = below if below is not None else _top(conn) + 1
    if conn.dialect.name == "sqlite":
        return _matching(conn, query, top, None, limit, where)
    # psycopg prepares a statement run five times, and PostgreSQL may then plan it once for
    # any words: a plan made for common words reads a rare pair's matches for seconds. Each
    # search is planned for its own words (measured: p95 3.3 s → 0.2 s with a department
    # filter), and without parallel workers, whose start-up costs a first page more than it
    # saves on this size of scan.
    conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
    conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
    found: list[tuple[int, int]] = []
    if below is None and top > WINDOW:
        # PostgreSQL guesses a pair's matches as if its words were unrelated: "chi nhanh"
        # (a branch) has 8x the matches it expects, and with a filter it then gathers all
        # 18,000 of them to sort instead of walking back through a few hundred messages
        # (230 ms instead of 20). The first page is looked for among the newest messages
        # first, walking the primary key; only if they hold too few does the planner choose.
        conn.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
        found = _matching(conn, query, top, top - WINDOW, limit, where)
        top -= WINDOW
        if found and len(found) < limit:
            # what the window held says how far back the rest is: walk on there when it
            # is near (a few windows), else the pair is rare enough for the GIN index
            reach = 2 * WINDOW * (limit - len(found)) // len(found)
            if reach <= 4 * WINDOW and top > reach:
                found += _matching(conn, query, top, top - reach, limit - len(found), where)
                top -= reach
        conn.exec_driver_sql("SET LOCAL enable_bitmapscan = on")
        if len(found) >= limit:
            return found
    return found + _matching(conn, query, top, None, limit - len(found), where)


def _matching(conn: Connection, query: Query, top: int, bottom: int | None, limit: int,
              where: Any) -> list[tuple[int, int]]:
    """The newest `limit` matches with ids in [bottom, top)."""
    source: Any
    if conn.dialect.name == "sqlite":
        source = _FTS.join(messages, messages.c.id == _FTS.c.rowid)
        match, order, bound = text("messages_fts MATCH :q"), _FTS.c.rowid, _FTS.c.rowid < top
        params = {"q": query.fts5()}
    else:
        source = messages
        match = text("messages.search_tsv @@ to_tsquery('simple', :q)")
        order, bound, params = messages.c.id, messages.c.id < top, {"q": query.tsquery()}
    stmt = select(messages.c.id, messages.c.ticket_id)
    if where is not None:
        source = source.join(tickets, tickets.c.id == messages.c.ticket_id)
        stmt = stmt.where(where)
    if bottom is not None:
        stmt = stmt.where(order >= bottom)
    stmt = stmt.select_from(source).where(match, bound).order_by(order.desc()).limit(limit)
    return [(int(r[0]), int(r[1])) for r in conn.execute(stmt, params)]


def _top(conn: Connection) -> int:
    return int(conn.execute(text("SELECT coalesce(max(id), 0) FROM messages")).scalar_one())


def exact_first(conn: Connection, query: Query, ticket_ids: Sequence[int]) -> list[int]:
    """The page's tickets: first those whose subject or text holds the query as typed
    (diacritics included), then those holding its words together in that order, then the
    rest, each group newest first. Compared here, not in SQL: SQLite's lower() knows only
    ASCII."""
    if not ticket_ids:
        return list(ticket_ids)
    rows = conn.execute(text(
        "SELECT ticket_id, subject, text, folded FROM messages WHERE ticket_id IN :ids "
        "AND folded IS NOT NULL").bindparams(bindparam("ids", expanding=True)),
        {"ids": list(ticket_ids)}).all()
    phrase = " ".join(query.words)
    rank: dict[int, int] = {}
    for ticket_id, subject, body, folded_text in rows:
        typed = query.typed in unicodedata.normalize("NFC", f"{subject or ''}\n{body}").lower()
        level = 0 if typed else 1 if f" {phrase}" in f" {folded_text}" else 2
        rank[int(ticket_id)] = min(level, rank.get(int(ticket_id), 2))
    return sorted(ticket_ids, key=lambda t: rank.get(t, 2))  # stable: newest first within
