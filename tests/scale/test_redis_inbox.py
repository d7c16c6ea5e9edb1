"""The Redis Streams inbox in one process (the pipeline on the test database, Redis on
127.0.0.1 under a key prefix of the test's own): a failing message keeps its sender's order
and is dead-lettered after max_attempts, an unreadable entry does not jam its partition,
and a Redis that lost everything (restart without persistence) gets its group back."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from switchboard import bootstrap
from switchboard.intake.redis_inbox import RedisInbox
from switchboard.settings import Settings
from tests.scale.conftest import REDIS, redis_or_skip
from tickets.clock import ManualClock
from tickets.database import Database
from tickets.messages import Channel, InboundMessage
from tickets.schema import messages


@pytest.fixture
def queue() -> Iterator[RedisInbox]:
    client = redis_or_skip(REDIS)
    prefix = f"sbtest{uuid.uuid4().hex[:8]}"
    found = RedisInbox(REDIS, partitions=2, prefix=prefix, lease_ms=2000, retry_ms=50,
                       block_ms=20, max_attempts=5)  # as worker.max_attempts
    yield found
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    client.close()
    found.close()


@pytest.fixture
def rt(settings: Settings, db: Database, clock: ManualClock,
       queue: RedisInbox) -> bootstrap.Runtime:
    runtime = bootstrap.build(settings, clock)
    runtime.db.dispose()
    runtime.db = runtime.pipeline.db = db
    runtime.pipeline.queue = queue
    return runtime


def msg(i: int, sender: str = "user-1") -> InboundMessage:
    return InboundMessage(Channel.MESSENGER, f"mid.{i}", sender, f"đơn {i} chưa giao hàng",
                          datetime.now(UTC))


def drain(rt: bootstrap.Runtime, seconds: float = 10) -> list[Any]:
    outcomes: list[Any] = []
    deadline = time.monotonic() + seconds
    assert rt.pipeline.queue is not None
    while time.monotonic() < deadline:
        outcomes += rt.pipeline.run_batch()
        if rt.pipeline.queue.stats().waiting == 0:
            break
    return outcomes


def applied(db: Database) -> list[str]:
    with db.read() as conn:
        return list(conn.execute(select(messages.c.external_id).where(
            messages.c.direction == "in").order_by(messages.c.id)).scalars())


def test_a_failing_message_keeps_its_senders_order(rt: bootstrap.Runtime,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    assert rt.pipeline.queue is not None
    rt.pipeline.queue.put_many([msg(1), msg(2), msg(3), msg(4, sender="user-2")])
    real = rt.pipeline.process
    failures = {"mid.2": 2}  # fails twice, then goes through

    def flaky(conn: Any, message: InboundMessage, *args: Any, **kwargs: Any) -> Any:
        if failures.get(message.external_id, 0) > 0:
            failures[message.external_id] -= 1
            raise RuntimeError("deadlock detected (simulated)")
        return real(conn, message, *args, **kwargs)

    monkeypatch.setattr(rt.pipeline, "process", flaky)
    drain(rt)
    done = applied(rt.db)
    assert sorted(done) == ["mid.1", "mid.2", "mid.3", "mid.4"]
    mine = [x for x in done if x != "mid.4"]
    assert mine == ["mid.1", "mid.2", "mid.3"]  # mid.3 waited for mid.2


def test_a_message_that_always_fails_is_dead_lettered(rt: bootstrap.Runtime,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    queue = rt.pipeline.queue
    assert queue is not None
    queue.put_many([msg(1, "a"), msg(2, "b")])
    real = rt.pipeline.process

    def poisoned(conn: Any, message: InboundMessage, *args: Any, **kwargs: Any) -> Any:
        if message.external_id == "mid.1":
            raise ValueError("this message breaks the classifier (simulated)")
        return real(conn, message, *args, **kwargs)

    monkeypatch.setattr(rt.pipeline, "process", poisoned)
    outcomes = drain(rt)
    tries = [o.action for o in outcomes if o.external_id == "mid.1"]
    assert tries == ["failed"] * 4 + ["dead"]  # worker.max_attempts is 5
    assert applied(rt.db) == ["mid.2"]
    assert queue.stats().dead == 1 and queue.stats().waiting == 0
    [(_, fields)] = queue.r.xrange(queue.dead_stream)
    assert b"breaks the classifier" in fields[b"error"]


def test_an_unreadable_entry_goes_to_the_dead_letters(rt: bootstrap.Runtime) -> None:
    queue = rt.pipeline.queue
    assert queue is not None
    queue.put_many([msg(1)])
    for p in range(queue.partitions):
        queue.r.xadd(queue.stream(p), {"m": b"{not json"})
    drain(rt)
    assert applied(rt.db) == ["mid.1"]
    assert queue.stats().dead == queue.partitions


def test_redis_that_lost_everything_gets_its_group_back(rt: bootstrap.Runtime) -> None:
    queue = rt.pipeline.queue
    assert queue is not None
    queue.put_many([msg(1)])
    drain(rt)
    for key in queue.r.scan_iter(f"{queue.prefix}:*"):  # as after a restart without AOF
        queue.r.delete(key)
    queue.put_many([msg(2)])
    drain(rt)
    assert applied(rt.db) == ["mid.1", "mid.2"]
