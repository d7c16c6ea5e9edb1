"""Search on a big store: 1,000,000 tickets with 2,000,000 messages (the development sets'
texts, recombined), on SQLite (FTS5) and PostgreSQL (GIN). The first page (50 tickets) of a
two-word query typed without diacritics must come back in under 100 ms at the 95th
percentile, with and without a filter.

    python -m benchmarks.bench_search [--tickets 1000000] [--queries 200] [--postgres URL]

The store is written with executemany / COPY (minutes for two million messages), the
SQLite index rebuilt once at the end as migration 0008 does, then queried through
`tickets.queries.ticket_page`, exactly as the API calls it.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tickets import migrate, queries, search, search_index
from tickets.database import Database

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 12, 1, tzinfo=UTC)
CHANNELS = ["zalo", "email", "messenger", "telegram", "phone", "web_comment"]
DEPARTMENTS = ["front_line", "complaint_desk", "logistics", "payments", "customer_care"]


def corpus() -> list[str]:
    texts = []
    for name in ("tests/data/classify/devset.jsonl", "tests/data/classify2/devset.jsonl"):
        for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    return texts


Row = tuple[object, ...]


def rows(count: int, texts: list[str]) -> Iterator[tuple[Row, list[Row]]]:
    """One ticket and its two messages at a time, in id order (older first)."""
    rng = random.Random(7)
    words = [w for t in texts for w in t.split()]
    for i in range(1, count + 1):
        at = (NOW - timedelta(seconds=(count - i) * 30)).strftime("%Y-%m-%d %H:%M:%S.%f")
        ticket = (i, rng.choice(["open", "resolved", "closed"]), rng.choice(CHANNELS),
                  "service", rng.choice(DEPARTMENTS), "normal", 1 + i % 50_000, "customer",
                  0.9, "[]", "[]", "none", at, at)
        first = rng.choice(texts)
        second = " ".join(rng.choice(words) for _ in range(rng.randint(4, 14)))
        messages = [(2 * i - 1 + k, i, "in", ticket[2], f"b{2 * i - 1 + k}", "x", "customer",
                     body, "[]", at, search.folded(None, body))
                    for k, body in enumerate((first, second))]
        yield ticket, messages


TICKETS_SQL = ("INSERT INTO tickets (id, status, channel, category, department, priority, "
               "customer_id, sender_kind, confidence, rules, tags, sla_level, created_at, "
               "updated_at) VALUES ({})")
MESSAGES_SQL = ("INSERT INTO messages (id, ticket_id, direction, channel, external_id, author, "
                "author_kind, text, attachments, created_at, folded) VALUES ({})")


def build_sqlite(path: Path, count: int, texts: list[str]) -> Database:
    db = Database(f"sqlite:///{path}", pooled=False)
    migrate.prepare(db)
    with db.engine.begin() as conn:
        search_index.drop(conn)  # one rebuild at the end beats two million trigger calls
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA synchronous=OFF")
    raw.executemany("INSERT INTO customers (id, created_at) VALUES (?, '2026-01-01')",
                    [(i,) for i in range(1, 50_001)])
    _fill(raw, count, texts, "?")
    raw.commit()
    raw.close()
    with db.engine.begin() as conn:
        search_index.create(conn)
        search_index.rebuild(conn)
    return Database(f"sqlite:///{path}")


def _fill(raw: object, count: int, texts: list[str], mark: str) -> None:
    ticket_batch: list[tuple[object, ...]] = []
    message_batch: list[tuple[object, ...]] = []
    cursor = raw.cursor()  # type: ignore[attr-defined]
    for ticket, messages in rows(count, texts):
        ticket_batch.append(ticket)
        message_batch += messages
        if len(ticket_batch) == 20_000:
            _flush(cursor, ticket_batch, message_batch, mark)
    _flush(cursor, ticket_batch, message_batch, mark)


def _flush(cursor: object, tickets: list[tuple[object, ...]],
           messages: list[tuple[object, ...]], mark: str) -> None:
    if tickets:
        cursor.executemany(TICKETS_SQL.format(",".join([mark] * 14)), tickets)  # type: ignore[attr-defined]
        cursor.executemany(MESSAGES_SQL.format(",".join([mark] * 11)), messages)  # type: ignore[attr-defined]
    tickets.clear()
    messages.clear()


def build_postgres(url: str, count: int, texts: list[str]) -> Database:
    import psycopg

    db = Database(url, pooled=False)
    migrate.prepare(db)
    with db.engine.begin() as conn:
        if conn.exec_driver_sql("SELECT count(*) FROM tickets").scalar_one() == count:
            return Database(url)  # built by an earlier run: measure again
        search_index.drop(conn)
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as raw:
        with raw.cursor() as cur, cur.copy("COPY customers (id, created_at) FROM STDIN") as copy:
            for i in range(1, 50_001):
                copy.write_row((i, "2026-01-01"))
        with raw.cursor() as cur:
            with cur.copy("COPY tickets (id, status, channel, category, department, priority, "
                          "customer_id, sender_kind, confidence, rules, tags, sla_level, "
                          "created_at, updated_at) FROM STDIN") as tcopy:
                for ticket, _ in rows(count, texts):
                    tcopy.write_row(ticket)
            with cur.copy("COPY messages (id, ticket_id, direction, channel, external_id, "
                          "author, author_kind, text, attachments, created_at, folded) "
                          "FROM STDIN") as mcopy:
                for _, messages in rows(count, texts):
                    for message in messages:
                        mcopy.write_row(message)
        raw.commit()
    with db.engine.begin() as conn:
        search_index.create(conn)
        conn.exec_driver_sql("ANALYZE messages")
        conn.exec_driver_sql("ANALYZE tickets")
    return Database(url)


def measure(db: Database, texts: list[str], count: int) -> dict[str, list[float]]:
    rng = random.Random(3)
    pairs = []
    for text in rng.sample(texts, count):
        words = search.fold(text).split()
        if len(words) >= 2:
            start = rng.randrange(len(words) - 1)
            pairs.append(" ".join(words[start:start + 2]))
    timings: dict[str, list[float]] = {"plain": [], "filtered": []}
    with db.read() as conn:
        for kind, f in (("plain", {}), ("filtered", {"department": "logistics"})):
            for query in pairs:
                started = time.perf_counter()
                queries.ticket_page(conn, "MC", queries.TicketFilter(text=query, **f), 50)
                timings[kind].append((time.perf_counter() - started) * 1000)
    return timings


def report(name: str, timings: dict[str, list[float]]) -> dict[str, float]:
    found = {}
    for kind, values in timings.items():
        values = sorted(values)
        p95 = values[int(len(values) * 0.95) - 1]
        found[f"{name}_{kind}_p95_ms"] = p95
        print(f"search {name} ({kind}): p50 {statistics.median(values):.1f} ms, p95 "
              f"{p95:.1f} ms, max {values[-1]:.1f} ms over {len(values)} two-word queries")
    return found


def main() -> dict[str, float]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--postgres", default="",
                        help="an empty PostgreSQL database's URL (or one an earlier run built)")
    parser.add_argument("--skip-sqlite", action="store_true")
    options, _ = parser.parse_known_args()
    texts = corpus()
    results: dict[str, float] = {}
    (ROOT / "var").mkdir(exist_ok=True)
    if not options.skip_sqlite:
        with tempfile.TemporaryDirectory(dir=ROOT / "var") as tmp:
            started = time.perf_counter()
            db = build_sqlite(Path(tmp) / "search.db", options.tickets, texts)
            print(f"search bench: {options.tickets:,} tickets, {2 * options.tickets:,} "
                  f"messages in SQLite in {time.perf_counter() - started:.0f} s")
            results.update(report("sqlite", measure(db, texts, options.queries)))
            db.dispose()
    if options.postgres:
        started = time.perf_counter()
        db = build_postgres(options.postgres, options.tickets, texts)
        print(f"search bench: the same in PostgreSQL in {time.perf_counter() - started:.0f} s")
        results.update(report("postgres", measure(db, texts, options.queries)))
        db.dispose()
    return results


if __name__ == "__main__":
    main()
