"""The inbox as Redis Streams, for many workers on many machines (`queue.url`).

Intake: one Lua call per message sets a dedup key (`SET NX EX`) and `XADD`s the message to
one of `partitions` streams, chosen by the sender (channel + sender), so one customer's
messages keep their order. A connector answers its platform only after the call returned;
Redis must keep what it acknowledged (`appendonly yes`, `appendfsync always`) for that to
mean "durable".

Workers: each partition is read by one worker at a time, the holder of its lease
(`SET NX PX`, renewed on every claim); live workers share the partitions evenly (a sorted
set of heartbeats says how many there are). The holder reads with `XREADGROUP` (one
consumer group), first taking over with `XAUTOCLAIM` whatever a dead holder, or its own
failed attempt, left pending. Entries are acknowledged (`XACK`) and deleted (`XDEL`: the
stream is trimmed only of acknowledged entries) after the ticket transaction committed; a
crash before that redelivers them and the store's unique key on (channel, external_id)
makes the replay a no-op. An entry delivered `max_attempts` times without success moves to
the dead-letter stream.
"""

from __future__ import annotations

import math
import os
import random
import socket
import time
import uuid
import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import redis

from tickets.messages import InboundMessage

PUT = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('XADD', KEYS[2], '*', 'm', ARGV[2])
  return 1
end
return 0
"""
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
HEARTBEAT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, now - tonumber(ARGV[2]))
return redis.call('ZCARD', KEYS[1])
"""
GROUP = "workers"


@dataclass(frozen=True, slots=True)
class StreamItem:
    partition: int
    entry_id: str
    attempts: int
    message: InboundMessage


@dataclass(frozen=True, slots=True)
class QueueStats:
    waiting: int
    dead: int
    oldest: datetime | None
    workers: list[str]
    partitions: dict[int, str | None]  # who holds each partition


class RedisInbox:
    def __init__(self, url: str, *, partitions: int = 8, prefix: str = "sb",
                 lease_ms: int = 15_000, retry_ms: int = 2_000,
                 dedup_seconds: int = 7 * 86400, block_ms: int = 200,
                 worker_id: str | None = None, max_attempts: int = 5) -> None:
        self.r = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5,
                                      health_check_interval=30)
        self.partitions = partitions
        self.prefix = prefix
        self.lease_ms = lease_ms
        self.retry_ms = retry_ms
        self.dedup_seconds = dedup_seconds
        self.block_ms = block_ms
        self.me = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.held: set[int] = set()
        self._put = self.r.register_script(PUT)
        self._renew = self.r.register_script(RENEW)
        self._release = self.r.register_script(RELEASE)
        self._heartbeat = self.r.register_script(HEARTBEAT)
        self.max_attempts = max_attempts
        self._groups_ready = False

    # -- keys -------------------------------------------------------------------------

    def stream(self, partition: int) -> str:
        return f"{self.prefix}:in:{partition}"

    def _lease(self, partition: int) -> str:
        return f"{self.prefix}:lease:{partition}"

    @property
    def dead_stream(self) -> str:
        return f"{self.prefix}:dead"

    @property
    def _workers(self) -> str:
        return f"{self.prefix}:workers"

    def partition_of(self, message: InboundMessage) -> int:
        key = f"{message.channel.value}:{message.sender}".encode()
        return zlib.crc32(key) % self.partitions

    # -- intake -----------------------------------------------------------------------

    def put_many(self, messages: Sequence[InboundMessage]) -> list[bool]:
        """True for each message that was new; returns after Redis acknowledged all."""
        if not messages:
            return []
        pipe = self.r.pipeline(transaction=False)
        for m in messages:
            self._put(keys=[f"{self.prefix}:seen:{m.channel.value}:{m.external_id}",
                            self.stream(self.partition_of(m))],
                      args=[self.dedup_seconds, orjson.dumps(m.to_dict())], client=pipe)
        return [bool(x) for x in pipe.execute()]

    def put(self, message: InboundMessage) -> bool:
        return self.put_many([message])[0]

    # -- workers ----------------------------------------------------------------------

    def _ensure_groups(self) -> None:
        if self._groups_ready:
            return
        for p in range(self.partitions):
            try:
                self.r.xgroup_create(self.stream(p), GROUP, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
        self._groups_ready = True

    def _balance(self) -> None:
        """Heartbeat, renew held leases, give back what is above a fair share, take free
        partitions up to it."""
        # scores on Redis's clock, not each machine's: a skewed clock cannot hide workers
        alive = max(1, int(self._heartbeat(keys=[self._workers],
                                           args=[self.me, self.lease_ms])))
        share = math.ceil(self.partitions / alive)
        for p in list(self.held):
            if not self._renew(keys=[self._lease(p)], args=[self.me, self.lease_ms]):
                self.held.discard(p)
        while len(self.held) > share:
            p = max(self.held)
            self._release(keys=[self._lease(p)], args=[self.me])
            self.held.discard(p)
        if len(self.held) < share:
            start = random.randrange(self.partitions)
            for i in range(self.partitions):
                p = (start + i) % self.partitions
                if p in self.held:
                    continue
                if self.r.set(self._lease(p), self.me, nx=True, px=self.lease_ms):
                    self.held.add(p)
                    if len(self.held) >= share:
                        break

    def claim(self, limit: int) -> list[StreamItem]:
        """Up to `limit` entries from the partitions this worker holds: first what was left
        pending (taken over), then new ones (waiting up to `block_ms` when there are none).
        Redis that lost its data (a restart without persistence) has lost the consumer
        group too: it is made again."""
        try:
            return self._claim(limit)
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            self._groups_ready = False
            return self._claim(limit)

    def _claim(self, limit: int) -> list[StreamItem]:
        self._ensure_groups()
        self._balance()
        if not self.held:
            time.sleep(self.block_ms / 1000)
            return []
        items: list[StreamItem] = []
        per = max(1, limit // len(self.held))
        clear: list[int] = []  # partitions with nothing pending: new entries may follow
        for p in sorted(self.held):
            _, entries, _ = self.r.xautoclaim(self.stream(p), GROUP, self.me,
                                              min_idle_time=self.retry_ms, start_id="0-0",
                                              count=per)
            if entries:
                counts = self._deliveries(p, [e[0] for e in entries])
                items += self._usable(p, [(e, counts.get(_text(e[0]), 1)) for e in entries])
            elif not self.r.xpending_range(self.stream(p), GROUP, min="-", max="+", count=1):
                clear.append(p)
            # else: an entry is waiting for its retry: what came after it waits too, so a
            # sender's messages are never applied out of order
        if len(items) >= limit or not clear:
            if not items:
                time.sleep(self.block_ms / 1000)
            return items
        answer: Any = self.r.xreadgroup(GROUP, self.me, {self.stream(p): ">" for p in clear},
                                        count=per, block=None if items else self.block_ms)
        for stream, entries in answer or []:
            p = int(_text(stream).rsplit(":", 1)[1])
            items += self._usable(p, [(e, 1) for e in entries])
        return items

    def _deliveries(self, partition: int, ids: list[Any]) -> dict[str, int]:
        found = self.r.xpending_range(self.stream(partition), GROUP, min=_text(ids[0]),
                                      max=_text(ids[-1]), count=len(ids) * 2)
        return {_text(p["message_id"]): int(p["times_delivered"]) for p in found}

    def _usable(self, partition: int, entries: list[tuple[Any, int]]) -> list[StreamItem]:
        """Entries as items. One that cannot be read (a payload from a newer version, a
        damaged entry), or that was delivered too often (it crashes or hangs whoever takes
        it), goes to the dead-letter stream instead of jamming its partition."""
        items, dead = [], []
        for (entry_id, fields), attempts in entries:
            if not fields:
                continue
            payload = fields.get(b"m") or fields.get("m")
            try:
                message = InboundMessage.from_dict(orjson.loads(payload))
            except Exception as exc:
                dead.append((_text(entry_id), fields, f"unreadable entry: {exc}", attempts))
                continue
            if attempts > self.max_attempts + 1:
                dead.append((_text(entry_id), fields, f"delivered {attempts} times without "
                             "an outcome (a crash or a hang while processing it)", attempts))
                continue
            items.append(StreamItem(partition, _text(entry_id), attempts, message))
        if dead:
            pipe = self.r.pipeline(transaction=True)
            for entry_id, fields, error, attempts in dead:
                pipe.xadd(self.dead_stream, {"m": fields.get(b"m") or fields.get("m") or b"",
                                             "error": error[:2000], "attempts": attempts})
                pipe.xack(self.stream(partition), GROUP, entry_id)
                pipe.xdel(self.stream(partition), entry_id)
            pipe.execute()
        return items

    def done(self, acked: Sequence[StreamItem], dead: Sequence[tuple[StreamItem, str]],
             failed: Sequence[StreamItem] = ()) -> None:
        """After the commit: acknowledge and delete what was applied; move the dead to the
        dead-letter stream (MULTI/EXEC: an entry is never left acknowledged but unread, nor
        dead twice). What failed stays pending; its idle time restarts (XCLAIM JUSTID does
        not count a delivery), so its retry waits `retry_ms` from the failure."""
        by_partition: dict[int, list[str]] = defaultdict(list)
        pipe = self.r.pipeline(transaction=True)
        for item, error in dead:
            pipe.xadd(self.dead_stream, {"m": orjson.dumps(item.message.to_dict()),
                                         "error": error[:2000], "attempts": item.attempts})
            by_partition[item.partition].append(item.entry_id)
        for item in acked:
            by_partition[item.partition].append(item.entry_id)
        for p, ids in by_partition.items():
            pipe.xack(self.stream(p), GROUP, *ids)
            pipe.xdel(self.stream(p), *ids)
        for item in failed:
            pipe.xclaim(self.stream(item.partition), GROUP, self.me, 0, [item.entry_id],
                        justid=True)
        pipe.execute()

    def renew(self) -> None:
        """Keep the leases while a long batch runs (called from a timer thread)."""
        for p in list(self.held):
            self._renew(keys=[self._lease(p)], args=[self.me, self.lease_ms])

    def leave(self) -> None:
        """A clean stop: give the partitions back at once."""
        for p in list(self.held):
            self._release(keys=[self._lease(p)], args=[self.me])
        self.held.clear()
        self.r.zrem(self._workers, self.me)

    def stats(self) -> QueueStats:
        pipe = self.r.pipeline(transaction=False)
        for p in range(self.partitions):
            pipe.xlen(self.stream(p))
            pipe.xrange(self.stream(p), count=1)
            pipe.get(self._lease(p))
        pipe.xlen(self.dead_stream)
        seconds, micros = self.r.time()
        now_ms = int(seconds) * 1000 + int(micros) // 1000
        pipe.zrangebyscore(self._workers, now_ms - self.lease_ms, "+inf")
        answers = pipe.execute()
        waiting, oldest_ms, holders = 0, None, {}
        for p in range(self.partitions):
            length, first, holder = answers[3 * p:3 * p + 3]
            waiting += int(length)
            if first:
                ms = int(_text(first[0][0]).split("-")[0])
                oldest_ms = ms if oldest_ms is None else min(oldest_ms, ms)
            holders[p] = _text(holder) if holder else None
        oldest = datetime.fromtimestamp(oldest_ms / 1000, UTC) if oldest_ms else None
        return QueueStats(waiting, int(answers[-2]), oldest,
                          [_text(w) for w in answers[-1]], holders)

    def close(self) -> None:
        self.r.close()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
