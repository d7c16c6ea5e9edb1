"""Finding tickets by what was written in them, as agents type: without diacritics, in any
case (`chua nhan duoc hang` finds `Chưa nhận được hàng`; `đ` is `d`), or by a phone in any
spelling, an email address or an order code.

Every message keeps a folded copy of its subject and text (`messages.folded`), written with
the message. SQLite indexes it with FTS5 (an external-content table, `messages_fts`, kept in
step by triggers, so the pipeline's own transaction updates it and an erasure removes it);
PostgreSQL with a GIN index on `to_tsvector('simple', folded)`. Both match whole words, the
last one also as a prefix when it has three letters or more (`hoan tie` finds `hoàn tiền`
while it is typed).

Results come newest first. An index cannot order a common word's million matches by date
cheaply, so the search walks the matching messages from the newest backwards in windows and
stops when a page is full: the first page of a two-word query on two million messages costs
milliseconds, not a sort of every match. Within a page, tickets whose text has the query
exactly as typed (diacritics included) come first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, text

_MARKS = re.compile(r"[\u0300-\u036f]")
_WORD = re.compile(r"[^\W_]+")
_ORDER_CODE = re.compile(r"^[a-z]{1,4}[-#]?\d{4,}$")
WINDOW = 20_000  # message ids per step backwards
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


def newest_matching(conn: Connection, query: Query, below: int | None, limit: int
                    ) -> list[tuple[int, int]]:
    """(message id, ticket id) of the newest matching messages with ids below `below`,
    at most `limit` of them."""
    if conn.dialect.name == "sqlite":
        sql = ("SELECT m.id, m.ticket_id FROM messages_fts f JOIN messages m ON m.id = f.rowid "
               "WHERE messages_fts MATCH :q AND f.rowid < :below "
               "ORDER BY f.rowid DESC LIMIT :limit")
        params = {"q": query.fts5()}
    else:
        sql = ("SELECT m.id, m.ticket_id FROM messages m "
               "WHERE to_tsvector('simple', coalesce(m.folded, '')) @@ to_tsquery('simple', :q) "
               "AND m.id < :below AND m.id >= :floor ORDER BY m.id DESC LIMIT :limit")
        params = {"q": query.tsquery()}
    top = below if below is not None else _top(conn) + 1
    if conn.dialect.name != "sqlite":
        found: list[tuple[int, int]] = []
        while top > 0 and len(found) < limit:  # windows: the GIN index and the id range
            floor = max(0, top - WINDOW)
            rows = conn.execute(text(sql), {**params, "below": top, "floor": floor,
                                            "limit": limit - len(found)}).all()
            found += [(int(r[0]), int(r[1])) for r in rows]
            top = floor
        return found
    rows = conn.execute(text(sql), {**params, "below": top, "limit": limit}).all()
    return [(int(r[0]), int(r[1])) for r in rows]


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
