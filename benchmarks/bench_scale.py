"""Whole-pipeline throughput with 1, 2 and 4 `switchboard worker` processes: on
PostgreSQL + Redis Streams (the scale-out set-up), and on SQLite with its inbox table (the
embedded default), on this machine.

    python -m benchmarks.bench_scale [--messages 20000] [--workers 1,2,4] [--only pg|sqlite]
    python -m benchmarks.bench_scale --profile     # where one worker's time goes (cProfile)

The workers are started first and left to join (so start-up is not timed), then the
messages are put into the inbox at once (the development set's texts, 5,000 senders across
eight channels, 1,000 suppliers and 20,000 orders in the catalog) and the clock runs until
the last message is in a ticket. Services: PostgreSQL and Redis on 127.0.0.1 (a fresh
database and key prefix per run).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import redis
import yaml
from sqlalchemy import create_engine, func, select, text

from benchmarks.bench_pipeline import seed, workload
from switchboard import bootstrap
from switchboard.intake.redis_inbox import RedisInbox
from switchboard.settings import load_settings
from tickets import inbox, migrate
from tickets.database import Database
from tickets.schema import messages as messages_table

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("SWITCHBOARD_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1/postgres")
REDIS = os.environ.get("SWITCHBOARD_BENCH_REDIS", "redis://127.0.0.1:6379/0")


@contextmanager
def pg_database() -> Iterator[str]:
    name = f"sb_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def config_file(tmp: Path, queue_url: str, prefix: str) -> Path:
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    config["queue"] = {"url": queue_url, "prefix": prefix, "partitions": 16}
    config["worker"] = {"batch_size": 200, "idle_sleep": "20ms"}
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def count(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(messages_table)
                                .where(messages_table.c.direction == "in")).scalar_one())


def run(kind: str, workers: int, total: int) -> float:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        prefix = f"sbbench{uuid.uuid4().hex[:6]}"
        context = pg_database() if kind == "pg" else _sqlite(tmp)
        with context as url:
            db = Database(url)
            migrate.upgrade(db)
            seed(db)
            config = config_file(tmp, REDIS if kind == "pg" else "", prefix)
            env = {**os.environ, "PYTHONPATH": str(ROOT), "SWITCHBOARD_SECRET": "bench"}
            procs = [subprocess.Popen([sys.executable, "-m", "switchboard.cli", "--config",
                                       str(config), "--db", url, "worker"], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                     for _ in range(workers)]
            client = redis.Redis.from_url(REDIS)
            try:
                if kind == "pg":
                    deadline = time.monotonic() + 60
                    while client.zcard(f"{prefix}:workers") < workers:
                        assert time.monotonic() < deadline, "workers did not start"
                        time.sleep(0.1)
                else:
                    time.sleep(3.0)  # start-up: import, classifier build
                batch = workload(total)
                started = time.perf_counter()
                if kind == "pg":
                    queue = RedisInbox(REDIS, partitions=16, prefix=prefix)
                    for i in range(0, total, 1000):
                        queue.put_many(batch[i:i + 1000])
                else:
                    now = datetime.now(UTC)
                    for i in range(0, total, 500):
                        with db.write() as conn:
                            inbox.put_many(conn, batch[i:i + 500], now)
                while count(db) < total:
                    time.sleep(0.05)
                elapsed = time.perf_counter() - started
            finally:
                for proc in procs:
                    proc.terminate()
                for proc in procs:
                    proc.wait(30)
                for key in client.scan_iter(f"{prefix}:*"):
                    client.delete(key)
                client.close()
                db.dispose()
    return total / elapsed


@contextmanager
def _sqlite(tmp: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp}/bench.db"


def profile(total: int) -> None:
    """One worker in this process, PostgreSQL + Redis, under cProfile."""
    with tempfile.TemporaryDirectory() as tmp_name, pg_database() as url:
        prefix = f"sbprof{uuid.uuid4().hex[:6]}"
        db = Database(url)
        migrate.upgrade(db)
        seed(db)
        settings = load_settings(ROOT / "config.yaml", environ={"SWITCHBOARD_SECRET": "b"},
                                 overrides={"database.url": url, "queue.url": REDIS,
                                            "queue.prefix": prefix, "queue.partitions": 16})
        rt = bootstrap.build(settings)
        assert rt.pipeline.queue is not None
        batch = workload(total)
        for i in range(0, total, 1000):
            rt.pipeline.queue.put_many(batch[i:i + 1000])
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        done = 0
        while done < total:
            done += len(rt.pipeline.run_batch())
        profiler.disable()
        elapsed = time.perf_counter() - started
        rt.pipeline.queue.leave()
        client = redis.Redis.from_url(REDIS)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
        rt.db.dispose()
        db.dispose()
        _ = tmp_name
    print(f"profile: one in-process worker, {total:,} messages in {elapsed:.1f} s "
          f"({total / elapsed:,.0f}/s)")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    print(out.getvalue())


def main() -> dict[str, float]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--only", choices=["pg", "sqlite"])
    parser.add_argument("--profile", action="store_true")
    options, _ = parser.parse_known_args()
    if options.profile:
        profile(min(options.messages, 5000))
        return {}
    figures: dict[str, float] = {}
    for kind in ("pg", "sqlite"):
        if options.only and kind != options.only:
            continue
        for n in (int(x) for x in options.workers.split(",")):
            rate = run(kind, n, options.messages)
            label = "PostgreSQL + Redis" if kind == "pg" else "SQLite (inbox table)"
            print(f"scale: {label}, {n} worker process(es): {rate:,.0f} messages/s "
                  f"({options.messages:,} messages)", flush=True)
            figures[f"{kind}_{n}"] = rate
    return figures


if __name__ == "__main__":
    main()
