"""The served OpenAPI document tells the truth: schemathesis' own command line, with every
check on, generates requests from `/openapi.json` against the real app served by uvicorn on
127.0.0.1 (tickets and customers in its database), and every answer must be one the
document declares, in the shape it declares; requests the document calls invalid must be
refused and those it calls valid accepted."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from switchboard.bootstrap import Runtime
from switchboard.web import create_app
from tests.helpers import deliver, message
from tickets.database import Database

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def served(runtime: Runtime, catalog: Database) -> Iterator[str]:
    now = runtime.clock.now()
    deliver(runtime.pipeline,
            message("seed-1", "Voucher bị nhà hàng từ chối, đơn DH25220868", channel="zalo",
                    sender="0912345678", when=now),
            message("seed-2", "Giao hàng chậm quá, đơn DH100245 chưa tới", when=now))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(runtime, run_worker=False),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)


@pytest.mark.slow
def test_schemathesis_with_every_check_finds_nothing(served: str) -> None:
    result = subprocess.run(
        [str(SCHEMATHESIS), "run", f"{served}/openapi.json", "--checks", "all",
         "--header", "Authorization: Bearer admin-secret", "--max-examples", "60",
         "--seed", "20261203", "--no-color", "--suppress-health-check", "all"],
        capture_output=True, text=True, timeout=600)
    summary = result.stdout[-6000:]
    assert result.returncode == 0, summary
    assert " passed" in summary and "failure" not in summary.split("Test cases:")[-1]
