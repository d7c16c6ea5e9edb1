"""Kill a worker process with SIGKILL in the middle of its work: nothing lost, nothing doubled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from tests.conftest import CONFIG, ROOT
from tickets import inbox, migrate
from tickets.database import Database
from tickets.messages import Channel, InboundMessage
from tickets.schema import messages

TOTAL = 4000


def test_sigkill_mid_batch_loses_and_doubles_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/crash.db"
    db = Database(url)
    migrate.upgrade(db)
    now = datetime.now(UTC)
    batch = [InboundMessage(Channel.MESSENGER, f"mid.{i}", f"user{i % 700}",
                            f"đơn {i} chưa giao hàng, shipper không gọi", now)
             for i in range(TOTAL)]
    with db.write() as conn:
        assert inbox.put_many(conn, batch, now) == TOTAL

    def processed() -> int:
        with db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(messages)).scalar_one())

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    worker = subprocess.Popen([sys.executable, "-m", "switchboard.cli", "--config", str(CONFIG),
                               "--db", url, "worker"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while processed() < 300 and time.monotonic() < deadline:
        time.sleep(0.02)
    worker.send_signal(signal.SIGKILL)  # mid-run: most likely inside a batch transaction
    worker.wait()
    done_before = processed()
    assert 0 < done_before < TOTAL
    with db.read() as conn:
        waiting = inbox.stats(conn).waiting
    assert done_before + waiting == TOTAL  # every message is either in a ticket or waiting

    from switchboard import bootstrap
    from switchboard.settings import load_settings

    rt = bootstrap.build(load_settings(CONFIG, overrides={"database.url": url}))
    while rt.pipeline.run_batch():
        pass
    with db.read() as conn:
        ids = conn.execute(select(messages.c.external_id)).scalars().all()
    assert len(ids) == len(set(ids)) == TOTAL
    rt.db.dispose()
    db.dispose()
