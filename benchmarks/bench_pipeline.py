"""Whole-pipeline throughput into SQLite: inbox → dedup → identify → classify → thread →
route → journal, committed in batches (durability kept: WAL, synchronous=FULL, and the
inbox row is deleted in the same transaction as the ticket is written).

    python -m benchmarks.bench_pipeline [--messages 20000] [--suppliers 1000]

Messages are the development set's texts with 5,000 distinct senders across channels, so
some follow-ups join open tickets and most open new ones; 1,000 suppliers and 20,000 orders
are in the catalog. Intake (putting messages into the inbox, 500 per transaction) and
processing are timed separately.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks._catalog import synthetic_suppliers
from switchboard import bootstrap
from switchboard.settings import load_settings
from tickets import catalog, inbox, migrate
from tickets.catalog import OrderRow, SupplierRow
from tickets.database import Database
from tickets.messages import Channel, InboundMessage

ROOT = Path(__file__).resolve().parent.parent
CHANNELS = [Channel.EMAIL, Channel.MESSENGER, Channel.ZALO, Channel.TELEGRAM,
            Channel.FACEBOOK_COMMENT, Channel.WEB_COMMENT, Channel.PHONE, Channel.API]


def sender(channel: Channel, n: int) -> str:
    if channel is Channel.EMAIL:
        return f"khach{n}@gmail.com"
    if channel is Channel.PHONE:
        return f"09{n:08d}"
    return str(10_000_000 + n)


def seed(db: Database, suppliers: int = 1000) -> None:
    """The catalog every pipeline benchmark runs against: suppliers and 20,000 orders."""
    now = datetime.now(UTC)
    entries = synthetic_suppliers(suppliers)
    with db.write() as conn:
        catalog.write_suppliers(conn, [SupplierRow(0, e.id, e.name, e.aliases, e.emails,
                                                   e.phones) for e in entries], now)
        catalog.write_orders(conn, [OrderRow(0, f"DH{30000000 + i}",
                                             entries[i % len(entries)].id, "Buffet tối",
                                             f"+849{i % 5000:08d}", None, 500000)
                                    for i in range(20000)], now)


def workload(count: int) -> list[InboundMessage]:
    """The development set's texts from 5,000 senders across eight channels."""
    rng = random.Random(11)
    lines = [json.loads(x) for x in (ROOT / "tests/data/classify/devset.jsonl")
             .read_text(encoding="utf-8").splitlines() if x.strip()]
    now = datetime.now(UTC)
    out = []
    for i in range(count):
        line = lines[i % len(lines)]
        channel = CHANNELS[i % len(CHANNELS)]
        out.append(InboundMessage(channel, f"bench-{i}", sender(channel, rng.randrange(5000)),
                                  line["text"], now, subject=line.get("subject")))
    return out


def main() -> dict[str, float]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    options, _ = parser.parse_known_args()
    rates = sorted(run_once() for _ in range(options.rounds))
    median = rates[len(rates) // 2]
    print(f"pipeline: median {median:,.0f} messages/s over {options.rounds} runs "
          f"(best {rates[-1]:,.0f}/s)")
    return {"pipeline_median_per_s": median, "pipeline_best_per_s": rates[-1]}


def run_once() -> float:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--suppliers", type=int, default=1000)
    parser.add_argument("--synchronous", default="full", choices=["full", "normal"])
    options, _ = parser.parse_known_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        settings = load_settings(ROOT / "config.yaml", environ={}, overrides={
            "database.url": url, "database.sqlite_synchronous": options.synchronous})
        db = Database(url, sqlite_synchronous=options.synchronous)
        migrate.upgrade(db)
        now = datetime.now(UTC)
        seed(db, options.suppliers)
        messages = workload(options.messages)
        started = time.perf_counter()
        for start in range(0, len(messages), 500):
            with db.write() as conn:
                inbox.put_many(conn, messages[start:start + 500], now)
        intake = time.perf_counter() - started
        rt = bootstrap.build(settings)
        started = time.perf_counter()
        processed = 0
        while outcomes := rt.pipeline.run_batch():
            processed += len(outcomes)
        elapsed = time.perf_counter() - started
        rt.db.dispose()
        db.dispose()
    rate = processed / elapsed
    print(f"pipeline: {rate:,.0f} messages/s into SQLite (synchronous={options.synchronous}, "
          f"batches of {settings.worker.batch_size}; {processed:,} messages in "
          f"{elapsed:.1f} s); intake into the inbox {options.messages / intake:,.0f}/s")
    return rate


if __name__ == "__main__":
    main()
