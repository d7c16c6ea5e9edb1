"""Export and erasure of one customer with 1,000 tickets, on SQLite (fsync on commit), among
10,000 other customers' tickets: both must take under 5 seconds.

    python -m benchmarks.bench_privacy [--tickets 1000] [--others 10000]

The data goes in through the real pipeline: the customer emailed 1,000 separate complaints
(each its own ticket, with an attachment described and a raw mail file on disk, an
acknowledgement in the outbox) and named their phone in some of them; other customers
mention her name in a few of theirs. The erasure is timed whole: rows, other tickets' mentions,
files, and the write-ahead log's checkpoint.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from switchboard import bootstrap
from switchboard.desk import privacy
from switchboard.settings import load_settings
from tickets import inbox, migrate, personal_data
from tickets.database import Database
from tickets.messages import Attachment, Channel, InboundMessage

ROOT = Path(__file__).resolve().parent.parent


def build(folder: Path, tickets: int, others: int) -> tuple[bootstrap.Runtime, int]:
    url = f"sqlite:///{folder}/bench.db"
    migrate.upgrade(Database(url, pooled=False))
    settings = load_settings(ROOT / "config.yaml", environ={"SWITCHBOARD_SECRET": "bench"},
                             overrides={"database.url": url,
                                        "email.raw_dir": str(folder / "mail"),
                                        "email.attachments.dir": str(folder / "files")})
    rt = bootstrap.build(settings)
    now = datetime.now(UTC)
    items = []
    for i in range(tickets):
        raw = folder / "mail" / f"{i:02d}"[:2] / f"m{i}.eml"
        raw.parent.mkdir(parents=True, exist_ok=True)
        raw.write_bytes(f"From: lan.bench@gmail.com\r\n\r\nDon {i}".encode())
        photo = folder / "files" / f"p{i}.jpg"
        photo.parent.mkdir(parents=True, exist_ok=True)
        photo.write_bytes(b"x" * 64)
        items.append(InboundMessage(
            Channel.EMAIL, f"<lan-{i}@mail.gmail.com>", "lan.bench@gmail.com",
            f"Đơn DH{20000000 + i} bị giao thiếu, gọi em số 0912 345 678 ạ", now,
            sender_name="Nguyễn Thị Lan", subject=f"Khiếu nại đơn số {i}",
            attachments=(Attachment("anh.jpg", "image/jpeg", 64, "ab" * 32,
                                    stored_path=str(photo)),),
            meta={"raw_path": str(raw)}))
    for i in range(others):
        mention = " (chị Nguyễn Thị Lan ở cùng phòng cũng bị)" if i % 100 == 0 else ""
        items.append(InboundMessage(Channel.ZALO, f"z-{i}", str(50_000_000 + i),
                                    f"Voucher bị từ chối{mention}", now))
    for start in range(0, len(items), 500):
        with rt.db.write() as conn:
            for item in items[start:start + 500]:
                inbox.put(conn, item, now)
    while rt.pipeline.run_batch():
        pass
    with rt.db.read() as conn:
        from tickets.customers import find_by_identity

        found = find_by_identity(conn, "email", "lan.bench@gmail.com")
    assert found is not None
    return rt, found


def main() -> dict[str, float]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--others", type=int, default=10000)
    options, _ = parser.parse_known_args()
    with tempfile.TemporaryDirectory() as tmp:
        rt, customer = build(Path(tmp), options.tickets, options.others)
        started = time.perf_counter()
        with rt.db.read() as conn:
            document = personal_data.export(conn, customer, "MC", datetime.now(UTC))
        exported = time.perf_counter() - started
        assert document is not None and len(document["tickets"]) == options.tickets
        started = time.perf_counter()
        done = privacy.erase(rt.db, rt.settings, customer, "bench", "cli", "benchmark",
                             datetime.now(UTC))
        erased = time.perf_counter() - started
        assert done is not None and len(done.erasure.tickets) == options.tickets
        rt.db.dispose()
    print(f"privacy: export of a customer with {options.tickets:,} tickets in "
          f"{exported:.2f} s, erasure in {erased:.2f} s ({done.files_removed:,} files, "
          f"{done.erasure.mentions} mentions in others' tickets; {options.others:,} others)")
    return {"export_s": exported, "erase_s": erased}


if __name__ == "__main__":
    main()
