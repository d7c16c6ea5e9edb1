"""Real processes on PostgreSQL and Redis: a `serve --no-worker` and `switchboard worker`
processes, configured through a copy of config.yaml whose Redis keys are the test's own."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from sqlalchemy import func, select

from tests.conftest import CONFIG, ROOT, _postgres_database, service_missing
from tests.connectors.fakes import fake_platform
from tickets import migrate
from tickets.database import Database
from tickets.schema import messages, tickets

__all__ = ["fake_platform"]
PG = os.environ.get("SWITCHBOARD_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1/postgres")
REDIS = os.environ.get("SWITCHBOARD_TEST_REDIS", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from _postgres_database(PG)


def redis_or_skip(url: str) -> redis.Redis:
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError as exc:
        service_missing(f"Redis at {url}: {exc}")
    return client


@dataclass
class Cluster:
    """Processes sharing one PostgreSQL database and one Redis key prefix."""

    tmp: Path
    db_url: str
    redis_url: str
    prefix: str
    config: Path
    db: Database
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    http: str = ""

    def env(self) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": str(ROOT), "SWITCHBOARD_SECRET": "scale-secret",
                "SWITCHBOARD_ADMIN_TOKEN": "admin-secret"}

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        with open(self.tmp / f"{name}.log", "ab") as log:  # the child keeps its own copy
            proc = subprocess.Popen([sys.executable, "-m", "switchboard.cli", "--config",
                                     str(self.config), "--db", self.db_url, *args],
                                    env=self.env(), stdout=log, stderr=subprocess.STDOUT)
        self.procs[name] = proc
        return proc

    def serve(self) -> None:
        port = free_port()
        self.start("serve", "serve", "--no-worker", "--port", str(port))
        self.http = f"http://127.0.0.1:{port}"
        import httpx

        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.http}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (self.tmp / "serve.log").read_text()
            time.sleep(0.1)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(name)
        proc.send_signal(sig)
        proc.wait(30)

    def messages(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(messages)).scalar_one())

    def external_ids(self) -> list[str]:
        with self.db.read() as conn:
            return list(conn.execute(select(messages.c.external_id)
                                     .where(messages.c.direction == "in")).scalars())

    def tickets(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(tickets)).scalar_one())

    def wait_for(self, check: Any, what: str, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while not check():
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}"
                                 for p in self.tmp.glob("*.log"))
                raise AssertionError(f"timed out waiting for {what}\n{logs}")
            time.sleep(0.1)

    def stop(self) -> None:
        for name in list(self.procs):
            self.kill(name, signal.SIGTERM)


def write_config(tmp: Path, redis_url: str, prefix: str, extra: dict[str, Any] | None = None
                 ) -> Path:
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    config["queue"] = {"url": redis_url, "prefix": prefix, "partitions": 8,
                       "lease": "3s", "retry_after": "1s"}
    config.setdefault("worker", {})["idle_sleep"] = "50ms"
    config["auth"] = {"tokens": [{"name": "admin", "token": "admin-secret", "role": "admin"}]}
    config["http"] = {"host": "127.0.0.1", "port": 8080}  # serve is given --port
    # no SMTP receiver in these processes: its fixed port could be taken on the machine
    config.setdefault("email", {}).setdefault("receiver", {})["enabled"] = False
    for key, value in (extra or {}).items():
        config[key] = value
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def cluster(tmp_path: Path, pg_url: str) -> Iterator[Cluster]:
    client = redis_or_skip(REDIS)
    prefix = f"sbtest{uuid.uuid4().hex[:8]}"
    db = Database(pg_url)
    migrate.upgrade(db)
    found = Cluster(tmp_path, pg_url, REDIS, prefix, write_config(tmp_path, REDIS, prefix), db)
    try:
        yield found
    finally:
        found.stop()
        db.dispose()
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
        client.close()


def redis_server_or_skip() -> str:
    found = shutil.which("redis-server")
    if found is None:
        service_missing("redis-server is not installed")
    return str(found)
