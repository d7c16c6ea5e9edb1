"""Scale-out with real processes on PostgreSQL and Redis Streams: SIGKILL a worker in the
middle of its batches, crash Redis, cut the database connections; then count — every
message in exactly one ticket, each sender's messages in their order."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import httpx
import redis
from sqlalchemy import select, text

from switchboard.intake.redis_inbox import RedisInbox
from tests.scale.conftest import Cluster, free_port, redis_server_or_skip, write_config
from tickets.messages import Channel, InboundMessage
from tickets.schema import messages

TEXTS = ["đơn {i} chưa giao hàng, shipper không gọi", "voucher {i} nhà hàng không nhận",
         "hoàn tiền đơn {i} giúp em với, trừ tiền 2 lần", "shop ơi đơn {i} bao giờ tới ạ?"]


def batch(count: int, senders: int, start: int = 0) -> list[InboundMessage]:
    now = datetime.now(UTC)
    return [InboundMessage(Channel.MESSENGER, f"mid.{i}", f"user{i % senders}",
                           TEXTS[i % len(TEXTS)].format(i=i), now)
            for i in range(start, start + count)]


def queue_of(cluster: Cluster) -> RedisInbox:
    return RedisInbox(cluster.redis_url, partitions=8, prefix=cluster.prefix)


def assert_exactly_once_in_order(cluster: Cluster, total: int) -> None:
    ids = cluster.external_ids()
    assert len(ids) == len(set(ids)) == total
    with cluster.db.read() as conn:
        rows = conn.execute(select(messages.c.id, messages.c.author, messages.c.external_id)
                            .where(messages.c.direction == "in")
                            .order_by(messages.c.id)).all()
    by_sender: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        if row.external_id.startswith("mid."):
            by_sender[row.author].append(int(row.external_id.split(".")[1]))
    for sender, sequence in by_sender.items():
        assert sequence == sorted(sequence), f"{sender}'s messages were applied out of order"


def test_sigkill_a_worker_mid_batch_nothing_lost_nothing_doubled(cluster: Cluster) -> None:
    cluster.serve()
    # through the HTTP intake, with replays: 202 once, then 200 duplicate
    with httpx.Client(base_url=cluster.http,
                      headers={"Authorization": "Bearer admin-secret"}) as client:
        for i in range(100):
            body = {"channel": "zalo", "external_id": f"zl-{i}", "from": f"84900000{i % 7:03d}",
                    "text": f"đơn DH{i:05d} giao chậm quá"}
            assert client.post("/api/messages", json=body).status_code == 202
            if i % 10 == 0:
                assert client.post("/api/messages", json=body).status_code == 200
    queue = queue_of(cluster)
    assert queue.put_many(batch(3000, 400)).count(True) == 3000
    assert queue.put_many(batch(50, 400)).count(True) == 0  # replays refused at intake
    cluster.start("w1", "worker")
    cluster.start("w2", "worker")
    cluster.wait_for(lambda: cluster.messages() >= 700, "a first share of the work")
    cluster.kill("w1")  # SIGKILL: most likely in the middle of a batch
    done = cluster.messages()
    assert done < 3100
    cluster.start("w3", "worker")
    cluster.wait_for(lambda: len(cluster.external_ids()) >= 3100, "every message")
    cluster.wait_for(lambda: queue.stats().waiting == 0, "the streams emptied")
    assert_exactly_once_in_order(cluster, 3100)
    status = subprocess.run(
        [*cluster_cli(cluster), "status", "--json"], capture_output=True, text=True,
        env=cluster.env(), check=True)
    assert '"inbox": "redis"' in status.stdout and '"inbox_waiting": 0' in status.stdout
    assert queue.stats().dead == 0


def cluster_cli(cluster: Cluster) -> list[str]:
    import sys

    return [sys.executable, "-m", "switchboard.cli", "--config", str(cluster.config), "--db",
            cluster.db_url]


def test_redis_crash_and_restart_loses_nothing(cluster: Cluster, tmp_path: Path) -> None:
    binary = redis_server_or_skip()
    port = free_port()
    data = tmp_path / "redis"
    data.mkdir()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data),
               "--appendonly", "yes", "--appendfsync", "always", "--save", ""]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        cluster.redis_url = url
        cluster.config = write_config(tmp_path, url, cluster.prefix)
        queue = queue_of(cluster)
        assert queue.put_many(batch(2000, 300)).count(True) == 2000
        cluster.start("w1", "worker")
        cluster.wait_for(lambda: cluster.messages() >= 400, "a first share of the work")
        server.send_signal(signal.SIGKILL)  # Redis dies without a word
        server.wait()
        time.sleep(1.5)
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        cluster.wait_for(lambda: len(cluster.external_ids()) >= 2000, "every message")
        cluster.wait_for(lambda: queue_of(cluster).stats().waiting == 0, "the streams emptied")
        assert_exactly_once_in_order(cluster, 2000)
    finally:
        cluster.stop()
        server.send_signal(signal.SIGKILL)
        server.wait()


def test_database_connections_cut_mid_transaction(cluster: Cluster) -> None:
    queue = queue_of(cluster)
    assert queue.put_many(batch(2500, 300)).count(True) == 2500
    cluster.start("w1", "worker")
    cluster.start("w2", "worker")
    name = cluster.db_url.rsplit("/", 1)[1]
    for cut in range(3):
        cluster.wait_for(lambda c=cut: cluster.messages() >= 400 * (c + 1), "progress")
        with cluster.db.engine.connect() as conn:  # every worker connection, mid-whatever
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :name AND pid <> pg_backend_pid()"),
                         {"name": name})
            conn.commit()
    cluster.wait_for(lambda: len(cluster.external_ids()) >= 2500, "every message")
    cluster.wait_for(lambda: queue.stats().waiting == 0, "the streams emptied")
    assert_exactly_once_in_order(cluster, 2500)


def _restart_postgres() -> None:
    """A real restart of the local server (fast shutdown: every connection is cut)."""
    import os
    import shutil

    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    if not shutil.which("pg_ctlcluster") or not versions or os.geteuid() != 0:
        import pytest

        pytest.skip("restarting PostgreSQL needs pg_ctlcluster and root on this machine")
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main",
                    "restart", "--", "-m", "fast"], check=True, capture_output=True,
                   timeout=120)
    deadline = time.monotonic() + 60
    while subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode != 0:
        assert time.monotonic() < deadline, "PostgreSQL did not come back"
        time.sleep(0.2)


def test_postgres_restart_mid_run_loses_nothing(cluster: Cluster) -> None:
    queue = queue_of(cluster)
    assert queue.put_many(batch(2500, 300)).count(True) == 2500
    cluster.start("w1", "worker")
    cluster.start("w2", "worker")
    cluster.wait_for(lambda: cluster.messages() >= 500, "a first share of the work")
    cluster.db.dispose()
    _restart_postgres()
    cluster.wait_for(lambda: len(cluster.external_ids()) >= 2500, "every message")
    cluster.wait_for(lambda: queue.stats().waiting == 0, "the streams emptied")
    assert_exactly_once_in_order(cluster, 2500)
    assert all(p.poll() is None for p in cluster.procs.values()), "a worker died"
