"""Soak (bounded in time, loopback only): 100,000 mixed messages across channels with
replays and out-of-order deliveries, four worker processes on PostgreSQL + Redis, while
their SLA sweepers escalate (targets of seconds, so escalations happen during the run).
Zero lost, zero doubled, every escalation exactly once.

Runs with `make soak` (CI runs it); SWITCHBOARD_SOAK_MESSAGES changes the count.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from switchboard.intake.redis_inbox import RedisInbox
from tests.scale.conftest import Cluster, write_config
from tickets.messages import Channel, InboundMessage
from tickets.schema import sla_events

pytestmark = pytest.mark.skipif(os.environ.get("SWITCHBOARD_SOAK") != "1",
                                reason="the soak runs with `make soak`")
TOTAL = int(os.environ.get("SWITCHBOARD_SOAK_MESSAGES", "100000"))
CHANNELS = [Channel.MESSENGER, Channel.ZALO, Channel.TELEGRAM, Channel.WEB_COMMENT,
            Channel.FACEBOOK_COMMENT, Channel.EMAIL, Channel.API]
TEXTS = ["đơn {i} chưa giao hàng, shipper không gọi", "voucher {i} nhà hàng không nhận",
         "hoàn tiền đơn {i} giúp em, bị trừ tiền 2 lần", "shop ơi đơn {i} bao giờ tới ạ?",
         "đồ ăn bị ôi thiu, đơn {i}", "app không đăng nhập được {i}"]
FAST_SLA = {"enabled": True, "sweep_every": "1s",
            "calendars": {"always": {"always": True}},
            "policies": [{"name": "soak", "calendar": "always", "first_response": "20s",
                          "resolution": "40s", "warn": "50%",
                          "ladder": [{"after": "20s", "notify": ["managers"]}]}]}


def sender(channel: Channel, n: int) -> str:
    return f"khach{n}@gmail.com" if channel is Channel.EMAIL else f"{channel.value}-{n}"


def test_soak_100k_four_workers_nothing_lost_nothing_doubled(cluster: Cluster) -> None:
    cluster.config = write_config(cluster.tmp, cluster.redis_url, cluster.prefix,
                                  {"sla": FAST_SLA})
    rng = random.Random(7)
    now = datetime.now(UTC)
    messages = []
    for i in range(TOTAL):
        channel = CHANNELS[i % len(CHANNELS)]
        messages.append(InboundMessage(channel, f"soak-{i}",
                                       sender(channel, rng.randrange(20_000)),
                                       TEXTS[i % len(TEXTS)].format(i=i), now))
    # out of order: the platforms deliver in their own order, in bursts
    for start in range(0, TOTAL, 50):
        chunk = messages[start:start + 50]
        rng.shuffle(chunk)
        messages[start:start + 50] = chunk
    queue = RedisInbox(cluster.redis_url, partitions=8, prefix=cluster.prefix)
    for name in ("w1", "w2", "w3", "w4"):
        cluster.start(name, "worker")
    accepted = 0
    for start in range(0, TOTAL, 2000):
        chunk = messages[start:start + 2000]
        accepted += queue.put_many(chunk).count(True)
        replays = rng.sample(messages[:start + len(chunk)], 100)  # retried webhooks
        assert queue.put_many(replays).count(True) == 0
    assert accepted == TOTAL
    cluster.wait_for(lambda: _count(cluster) >= TOTAL, "every message", seconds=900)
    # a replay after the intake's dedup window: the store refuses it
    late = rng.sample(messages, 500)
    client = queue.r
    for m in late:
        client.delete(f"{cluster.prefix}:seen:{m.channel.value}:{m.external_id}")
    assert queue.put_many(late).count(True) == 500
    cluster.wait_for(lambda: queue.stats().waiting == 0, "the streams emptied", seconds=300)
    cluster.wait_for(lambda: _red(cluster) > 0, "the sweepers to turn tickets red", 120)
    ids = cluster.external_ids()
    assert len(ids) == len(set(ids)) == TOTAL
    assert queue.stats().dead == 0
    with cluster.db.read() as conn:
        steps = Counter((r.ticket_id, r.timer, r.level) for r in conn.execute(
            select(sla_events.c.ticket_id, sla_events.c.timer, sla_events.c.level)
            .where(sla_events.c.kind.in_(["warning", "breach", "escalation"]))))
    assert steps, "the sweepers escalated nothing"
    assert set(steps.values()) == {1}, [k for k, v in steps.items() if v > 1][:5]
    print(f"soak: {TOTAL:,} messages, {cluster.tickets():,} tickets, {len(steps):,} "
          "escalation steps, each once")


def _count(cluster: Cluster) -> int:
    from tickets.schema import messages

    with cluster.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(messages)
                                .where(messages.c.direction == "in")).scalar_one())


def _red(cluster: Cluster) -> int:
    with cluster.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(sla_events)
                                .where(sla_events.c.level == 2)).scalar_one())
