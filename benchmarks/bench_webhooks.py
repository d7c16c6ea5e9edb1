"""Webhook intake: signed requests per second into the durable inbox, and their latency.

One `switchboard serve` process (uvicorn, SQLite, the embedded default) with Messenger,
Zalo and the website comment box enabled; load generators in other processes (aiohttp on
loopback) send correctly signed webhooks, about 5% of them replays, and measure each
request's latency from send to the 200 (which comes only after the inbox commit).

Two measurements:
- open loop: requests sent on a fixed schedule at `--rate` per second (default 1,000) for
  `--seconds`; latency percentiles are honest because a slow answer does not slow the sender;
- closed loop: `--connections` clients sending as fast as answers come: the ceiling.

Then the database is read: every distinct message must be in the inbox exactly once.

    python -m benchmarks.bench_webhooks [--rate 1000] [--seconds 10] [--worker]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PAGE, APP_SECRET = "1134713619900975", "bench-app-secret"
ZALO_APP, ZALO_KEY = "3456789012345678901", "bench-zalo-key"
WEB_SECRET = "bench-web-secret"
Request = tuple[str, bytes, dict[str, str]]


def config(tmp: Path) -> Path:
    data = yaml.safe_load((ROOT / "config.yaml").read_text())
    channels = data["channels"]
    channels["messenger"].update(enabled=True, page_id=PAGE, app_secret=APP_SECRET,
                                 verify_token="v", page_access_token="t", acknowledge=False)
    channels["zalo"].update(enabled=True, app_id=ZALO_APP, secret_key=ZALO_KEY,
                            access_token="t", acknowledge=False)
    channels["web_comments"].update(enabled=True, secret=WEB_SECRET, callback_url="")
    data["email"]["receiver"]["enabled"] = False
    for mailbox in data["email"].get("mailboxes", []):
        mailbox.pop("imap", None)
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def build_requests(worker: int, count: int) -> list[Request]:
    """Signed bodies as the platforms send them; every 20th repeats an earlier one."""
    from connectors.web_comments.webhook import sign
    from connectors.webhooks import hmac_sha256_hex
    from connectors.zalo.webhook import signature

    texts = ["Đơn DH25220868 chưa giao, đã 5 ngày rồi", "Voucher buffet nhà hàng không nhận",
             "hang bi vo, shop doi giup minh", "Cho hỏi giờ mở cửa cuối tuần ạ"]
    built: list[Request] = []
    now = int(time.time())
    for i in range(count):
        if i % 20 == 19 and built:
            built.append(built[i // 2])
            continue
        text = texts[i % len(texts)]
        n = f"{worker}-{i}"
        kind = i % 10
        if kind < 5:
            body = json.dumps({"object": "page", "entry": [{"id": PAGE, "time": now * 1000,
                               "messaging": [{"sender": {"id": f"psid{n}"},
                                              "recipient": {"id": PAGE},
                                              "timestamp": now * 1000,
                                              "message": {"mid": f"m_{n}", "text": text}}]}]},
                              ensure_ascii=False).encode()
            built.append(("/webhooks/messenger", body, {
                "X-Hub-Signature-256": "sha256=" + hmac_sha256_hex(APP_SECRET, body)}))
        elif kind < 8:
            stamp = str(now * 1000)
            body = json.dumps({"app_id": ZALO_APP, "event_name": "user_send_text",
                               "sender": {"id": f"z{n}"}, "recipient": {"id": "oa"},
                               "message": {"text": text, "msg_id": f"zm{n}"},
                               "timestamp": stamp}, ensure_ascii=False).encode()
            built.append(("/webhooks/zalo", body, {
                "X-ZEvent-Signature": "mac=" + signature(ZALO_APP, body, stamp, ZALO_KEY)}))
        else:
            body = json.dumps({"comment_id": f"c{n}", "product_id": "p-12",
                               "author": {"id": f"u{n}", "name": "Lan"}, "text": text},
                              ensure_ascii=False).encode()
            stamp = str(now)
            built.append(("/webhooks/web-comments", body, {
                "X-Switchboard-Timestamp": stamp,
                "X-Switchboard-Signature": sign(WEB_SECRET, stamp, body)}))
    return built


async def _drive(base: str, requests: list[Request], rate: float | None,
                 connections: int, warmup: list[Request]) -> tuple[list[float], int, float]:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(base, connector=connector) as session:
        async def one(request: Request, record: bool = True) -> None:
            nonlocal errors
            path, body, headers = request
            started = time.perf_counter()
            async with session.post(path, data=body, headers={
                    "Content-Type": "application/json", **headers}) as response:
                await response.read()
                if response.status != 200:
                    errors += 1
            if record:
                latencies.append(time.perf_counter() - started)

        # open the connections and warm the server's caches; not measured, but counted
        # in the stored-exactly-once check like every other request
        for start in range(0, len(warmup), connections):
            await asyncio.gather(*(one(r, record=False)
                                   for r in warmup[start:start + connections]))

        began = time.perf_counter()
        if rate is None:
            queue = list(reversed(requests))

            async def client() -> None:
                while queue:
                    await one(queue.pop())
            await asyncio.gather(*(client() for _ in range(connections)))
        else:
            tasks = []
            for i, request in enumerate(requests):
                delay = began + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(request)))
            await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
    return latencies, errors, elapsed


WARMUP = 500


def _generator(args: tuple[str, int, int, float | None, int]) -> tuple[list[float], int, float]:
    base, worker, count, rate, connections = args
    requests = build_requests(worker, count + WARMUP)
    return asyncio.run(_drive(base, requests[WARMUP:], rate, connections, requests[:WARMUP]))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(200):
        if process.poll() is not None:
            raise SystemExit("switchboard serve exited early")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit("switchboard serve did not start")


def run(rate: float | None, seconds: float, connections: int, generators: int,
        worker: bool, total: int | None = None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        port = _free_port()
        db = tmp / "bench.db"
        command = [str(Path(sys.executable).parent / "switchboard"), "--config",
                   str(config(tmp)), "--db", f"sqlite:///{db}", "serve", "--port", str(port)]
        if not worker:
            command.append("--no-worker")
        env = dict(os.environ, SWITCHBOARD_SECRET="bench", SWITCHBOARD_LOG_LEVEL="warning")
        process = subprocess.Popen(command, env=env, cwd=tmp, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        try:
            _wait_up(port, process)
            count = total or int((rate or 1000) * seconds)
            per = count // generators
            share = None if rate is None else rate / generators
            with multiprocessing.get_context("spawn").Pool(generators) as pool:
                results = pool.map(_generator, [
                    (f"http://127.0.0.1:{port}", g, per, share,
                     max(1, connections // generators)) for g in range(generators)])
        finally:
            process.terminate()
            process.wait(timeout=60)
        latencies = sorted(x for r in results for x in r[0])
        errors = sum(r[1] for r in results)
        elapsed = max(r[2] for r in results)
        distinct = sum(len({(p, b) for p, b, _ in build_requests(g, per + WARMUP)})
                       for g in range(generators))
        with sqlite3.connect(db) as conn:
            waiting = conn.execute("SELECT COUNT(*) FROM inbox").fetchone()[0]
            processed = conn.execute(  # the worker deletes inbox rows it has processed
                "SELECT COUNT(*) FROM messages WHERE direction = 'in'").fetchone()[0]
            stored = waiting + processed
    sent = len(latencies)

    def pct(p: float) -> float:
        return latencies[min(sent - 1, int(p * sent))] * 1000

    return {"requests": sent, "errors": errors, "per_s": sent / elapsed,
            "p50_ms": pct(0.50), "p99_ms": pct(0.99), "max_ms": latencies[-1] * 1000,
            "distinct": distinct, "stored": stored, "processed": processed}


def report(label: str, r: dict[str, float], worker: bool) -> None:
    kept = "stored" if not worker else f"stored ({r['processed']:,.0f} already processed)"
    print(f"webhooks {label}: {r['requests']:,.0f} signed requests at {r['per_s']:,.0f}/s, "
          f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, max {r['max_ms']:.0f} ms, "
          f"{r['errors']:.0f} errors; {r['distinct']:,.0f} distinct messages -> "
          f"{r['stored']:,.0f} {kept}")
    if r["stored"] != r["distinct"] or r["errors"]:
        raise SystemExit("webhook benchmark: messages lost, doubled or refused")


def main() -> dict[str, float]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--generators", type=int, default=2)
    parser.add_argument("--worker", action="store_true",
                        help="run the pipeline worker in the server process too")
    options, _ = parser.parse_known_args()
    opened = run(options.rate, options.seconds, options.connections, options.generators,
                 options.worker)
    report(f"open loop at {options.rate:,.0f}/s", opened, options.worker)
    closed = run(None, 0, options.connections, options.generators, options.worker,
                 total=int(options.rate * options.seconds))
    report(f"closed loop, {options.connections} connections", closed, options.worker)
    return {"webhooks_open_p99_ms": opened["p99_ms"], "webhooks_open_per_s": opened["per_s"],
            "webhooks_max_per_s": closed["per_s"], "webhooks_closed_p99_ms": closed["p99_ms"]}


if __name__ == "__main__":
    main()
