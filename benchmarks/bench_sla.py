"""The SLA sweeper against a big table: 1,000,000 open tickets in SQLite (fsync on commit),
each with real clocks, of which 1,000 are due. One sweep must find and escalate the due
ones in under a second, and a sweep with none due must take under 10 ms: the sweeper reads
the index on `sla_next_at`, never the open tickets.

    python -m benchmarks.bench_sla [--tickets 1000000] [--due 1000] [--rounds 3]

The database is built once per run with sqlite3's executemany (about a minute for a
million rows) and removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sla import timers
from switchboard.jobs.sla_sweeper import Sweeper
from switchboard.settings import load_settings
from switchboard.ticket_rules.sla_keeper import keeper_for
from tickets import migrate
from tickets.clock import ManualClock
from tickets.database import Database

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def build(path: Path, count: int) -> None:
    url = f"sqlite:///{path}"
    db = Database(url, pooled=False)
    migrate.upgrade(db)
    db.dispose()
    settings = load_settings(ROOT / "config.yaml", environ={"SWITCHBOARD_SECRET": "bench"},
                             overrides={"database.url": url})
    keeper = keeper_for(settings)
    policy = keeper.by_name["service"]
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")  # building only; the sweeps run with FULL
    conn.execute("INSERT INTO customers (id, name, created_at) VALUES (1, 'bench', ?)",
                 (_stored(NOW),))
    started = time.perf_counter()
    batch = []
    for i in range(1, count + 1):
        created = NOW - timedelta(minutes=random.randint(0, 120))  # every ticket is young:
        state = timers.new_state(policy, ["first_response", "resolution"], created)
        upcoming = timers.next_at(state, policy)  # nothing is due before +1 h
        assert upcoming is not None
        batch.append((i, "open", "zalo", "service", "delivery", "logistics", "normal", 1,
                      "customer", 0.9, "[]", "[]", "none", _stored(created),
                      _stored(created), json.dumps(state), _stored(upcoming), 0))
        if len(batch) == 50_000:
            _insert(conn, batch)
            batch.clear()
    _insert(conn, batch)
    conn.commit()
    conn.close()
    print(f"sla bench: {count:,} open tickets written in {time.perf_counter() - started:.0f} s")


def _stored(when: datetime) -> str:
    """How SQLAlchemy's DateTime stores a UTC instant in SQLite."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _insert(conn: sqlite3.Connection, rows: list[tuple[object, ...]]) -> None:
    conn.executemany(
        "INSERT INTO tickets (id, status, channel, category, topic, department, priority, "
        "customer_id, sender_kind, confidence, rules, tags, sla_level, created_at, updated_at, "
        "sla, sla_next_at, sla_version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)


def main() -> dict[str, float]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    options, _ = parser.parse_known_args()
    with tempfile.TemporaryDirectory(dir=ROOT / "var") as tmp:
        path = Path(tmp) / "sla.db"
        build(path, options.tickets)
        url = f"sqlite:///{path}"
        settings = load_settings(ROOT / "config.yaml", environ={"SWITCHBOARD_SECRET": "b"},
                                 overrides={"database.url": url})
        clock = ManualClock(NOW)
        db = Database(url)
        sweeper = Sweeper(settings, db, clock, keeper_for(settings))
        idle, busy = [], []
        ids = random.sample(range(1, options.tickets + 1), options.due * options.rounds)
        for round_ in range(options.rounds):
            started = time.perf_counter()
            assert sweeper.sweep().steps == 0
            idle.append(time.perf_counter() - started)
            chosen = ids[round_ * options.due:(round_ + 1) * options.due]
            due_at = _stored(clock.now() - timedelta(seconds=1))
            with sqlite3.connect(path) as raw:  # these tickets' warning point has passed
                raw.executemany("UPDATE tickets SET sla = json_set(sla, "
                                "'$.timers.first_response.start', ?), sla_next_at = ? "
                                "WHERE id = ?",
                                [((NOW - timedelta(hours=3, minutes=30)).isoformat(),
                                  due_at, i) for i in chosen])
            started = time.perf_counter()
            done = sweeper.sweep()
            busy.append(time.perf_counter() - started)
            assert done.escalated == options.due, done
        db.dispose()
    print(f"sla sweep, {options.tickets:,} open tickets: none due "
          f"{statistics.median(idle) * 1000:.1f} ms "
          f"median (max {max(idle) * 1000:.1f}); {options.due:,} due escalated in "
          f"{statistics.median(busy) * 1000:.0f} ms median (max {max(busy) * 1000:.0f}) "
          f"over {options.rounds} rounds")
    return {"sla_idle_ms": statistics.median(idle) * 1000,
            "sla_due_ms": statistics.median(busy) * 1000}


if __name__ == "__main__":
    main()
