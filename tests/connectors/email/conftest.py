"""Email test peers: an SMTP sink that records what it gets, and real mail built with the
standard library."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trustme
from aiosmtpd.smtp import SMTP, Envelope, Session

from connectors.email.intake import MailIntake
from connectors.email.mailboxes import Mailbox, Mailboxes
from connectors.files import FileStore
from tickets.clock import ManualClock
from tickets.messages import InboundMessage

FIXTURES = Path(__file__).parent / "fixtures"
MAILBOXES = Mailboxes([Mailbox("hotro@shop.example.vn", "Hỗ trợ"),
                       Mailbox("contact@shop.example.vn", "Liên hệ")])


@dataclass
class Sink:
    """An SMTP server that keeps every message; `refuse` makes it answer with an error."""

    received: list[Envelope] = field(default_factory=list)
    refuse: str | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse:
            return self.refuse
        self.received.append(envelope)
        return "250 OK"


@pytest.fixture
async def sink() -> AsyncIterator[tuple[Sink, int]]:
    handler = Sink()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield handler, port
    server.close()
    await server.wait_closed()


@dataclass
class Collected:
    messages: list[InboundMessage] = field(default_factory=list)
    fail: bool = False

    def put(self, message: InboundMessage) -> bool:
        if self.fail:
            raise RuntimeError("inbox unavailable")
        new = all(m.external_id != message.external_id for m in self.messages)
        if new:
            self.messages.append(message)
        return new


@pytest.fixture
def collected() -> Collected:
    return Collected()


@pytest.fixture
def intake(tmp_path: Path, collected: Collected, clock: ManualClock) -> MailIntake:
    return MailIntake(MAILBOXES, FileStore(tmp_path / "raw", max_bytes=1 << 30),
                      FileStore(tmp_path / "files", max_bytes=1_000_000, max_files=5),
                      collected.put, clock)


@pytest.fixture(scope="session")
def tls_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def server_cert(tls_ca: trustme.CA, tmp_path: Path) -> Iterator[tuple[str, str]]:
    cert = tls_ca.issue_cert("127.0.0.1", "localhost")
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    yield str(cert_path), str(key_path)
