"""The IMAP poller against a real Dovecot on loopback."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from imapclient import IMAPClient

from connectors.email.imap_poller import ImapAuthFailed, ImapOptions, ImapPoller
from connectors.email.intake import MailIntake
from connectors.email.mailboxes import Mailbox, Mailboxes
from connectors.files import FileStore
from tests import dovecot
from tests.conftest import service_missing
from tests.connectors.email.conftest import Collected
from tickets.clock import ManualClock
from tickets.messages import InboundMessage

ACCOUNTS = [f"hotro{n}@shop.example.vn" for n in range(20)]


@pytest.fixture(scope="module")
def server() -> Iterator[dovecot.Dovecot]:
    running = dovecot.start()
    if running is None:
        service_missing("dovecot is not installed (apt-get install dovecot-imapd)")
    assert running is not None
    # all users up front: Dovecot rereads its passwd-file by mtime, to the second
    for user in ACCOUNTS:
        running.add_user(user, "secret")
    yield running
    running.stop()


@pytest.fixture
def account(server: dovecot.Dovecot) -> tuple[str, str]:
    return ACCOUNTS.pop(), "secret"


class State:
    def __init__(self) -> None:
        self.saved: dict[tuple[str, str], tuple[int, int]] = {}

    def load(self, mailbox: str, folder: str) -> tuple[int, int] | None:
        return self.saved.get((mailbox, folder))

    def save(self, mailbox: str, folder: str, uidvalidity: int, last_uid: int) -> None:
        self.saved[(mailbox, folder)] = (uidvalidity, last_uid)


def message(n: int, size: int = 0) -> bytes:
    mail = EmailMessage()
    mail["From"] = f"khach{n}@gmail.com"
    mail["To"] = "hotro@shop.example.vn"
    mail["Subject"] = f"Đơn hàng {n}"
    mail["Message-ID"] = f"<m{n}.{uuid.uuid4().hex[:6]}@gmail.com>"
    mail.set_content(f"Tin nhắn số {n}\n" + ("x" * 70 + "\n") * (size // 71))
    return mail.as_bytes()


def seed(server: dovecot.Dovecot, account: tuple[str, str], *raws: bytes,
         folder: str = "INBOX", arrived: datetime | None = None) -> None:
    with IMAPClient("127.0.0.1", port=server.port, ssl=False) as client:
        client.login(*account)
        for raw in raws:
            client.append(folder, raw, msg_time=arrived)  # INTERNALDATE: now, or `arrived`


def poller(server: dovecot.Dovecot, account: tuple[str, str], intake: MailIntake,
           state: State, **options: object) -> ImapPoller:
    settings = ImapOptions(host="127.0.0.1", port=server.port, username=account[0],
                           password=account[1], use_ssl=False,
                           **options)  # type: ignore[arg-type]
    return ImapPoller(Mailbox("hotro@shop.example.vn"), settings, intake, state.load, state.save)


@contextlib.contextmanager
def running(target: ImapPoller) -> Iterator[ImapPoller]:
    """The poller in its own thread, as the service runs it; stopped and joined after."""
    thread = threading.Thread(target=target.run, daemon=True)
    thread.start()
    try:
        yield target
    finally:
        target.stop()
        thread.join(timeout=15)
    assert not thread.is_alive(), "the poller did not stop"


def wait_for(condition: Callable[[], object], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def flags(server: dovecot.Dovecot, account: tuple[str, str],
          folder: str = "INBOX") -> dict[int, tuple[bytes, ...]]:
    with IMAPClient("127.0.0.1", port=server.port, ssl=False) as client:
        client.login(*account)
        client.select_folder(folder)
        uids = client.search(["ALL"])
        return {uid: data[b"FLAGS"] for uid, data in client.fetch(uids, ["FLAGS"]).items()}


def test_takes_new_mail_once_across_restarts(server: dovecot.Dovecot, account: tuple[str, str],
                                             intake: MailIntake, collected: Collected) -> None:
    seed(server, account, message(1), message(2))
    state = State()
    assert poller(server, account, intake, state).poll_once() == 2
    assert poller(server, account, intake, state).poll_once() == 0  # restart: nothing again
    seed(server, account, message(3))
    assert poller(server, account, intake, state).poll_once() == 1
    assert [m.subject for m in collected.messages] == ["Đơn hàng 1", "Đơn hàng 2", "Đơn hàng 3"]
    assert all(b"$Switchboard" in f for f in flags(server, account).values())
    assert all(b"\\Seen" not in f for f in flags(server, account).values())  # left unread


def test_uidvalidity_change_rereads_and_dedup_keeps_it_single(
        server: dovecot.Dovecot, account: tuple[str, str], intake: MailIntake,
        collected: Collected) -> None:
    seed(server, account, message(1))
    state = State()
    poller(server, account, intake, state).poll_once()
    ((key, (validity, last)),) = state.saved.items()
    state.saved[key] = (validity - 1, 99)  # the server renumbered the folder
    assert poller(server, account, intake, state).poll_once() == 0  # flagged: not again
    with IMAPClient("127.0.0.1", port=server.port, ssl=False) as client:
        client.login(*account)
        client.select_folder("INBOX")
        client.remove_flags(client.search(["ALL"]), ["$Switchboard"])  # ...nor its flags
    assert poller(server, account, intake, state).poll_once() == 1
    assert len(collected.messages) == 1  # the replay was recognised by its Message-ID


def test_mail_flagged_as_taken_is_not_taken_again_when_the_state_is_lost(
        server: dovecot.Dovecot, account: tuple[str, str], intake: MailIntake,
        collected: Collected) -> None:
    seed(server, account, message(1), message(2))
    assert poller(server, account, intake, State()).poll_once() == 2
    seed(server, account, message(3))
    assert poller(server, account, intake, State()).poll_once() == 1  # a new database, say
    assert [m.subject for m in collected.messages] == ["Đơn hàng 1", "Đơn hàng 2",
                                                       "Đơn hàng 3"]


def test_mail_deleted_before_it_is_fetched_is_skipped(
        server: dovecot.Dovecot, account: tuple[str, str], intake: MailIntake,
        collected: Collected, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """A person deletes a mail between our SEARCH and FETCH: the rest are still taken,
    whether the mail was a small one or one over the cap (of which we fetch the header)."""
    seed(server, account, message(1), message(2), message(3, size=60_000))
    fetch = IMAPClient.fetch

    def racing(self: IMAPClient, messages: Any, data: Any, *args: Any) -> Any:
        if (data, messages) in ((["BODY.PEEK[]"], [1]), (["BODY.PEEK[HEADER]"], [3])):
            with IMAPClient("127.0.0.1", port=server.port, ssl=False) as other:
                other.login(*account)
                other.select_folder("INBOX")
                other.delete_messages(messages)
                other.expunge()
        return fetch(self, messages, data, *args)

    monkeypatch.setattr(IMAPClient, "fetch", racing)
    caplog.set_level(logging.INFO, "switchboard.email.imap")
    state = State()
    assert poller(server, account, intake, state, max_message_bytes=10_000).poll_once() == 3
    assert [m.subject for m in collected.messages] == ["Đơn hàng 2"]
    assert "uid 1 was deleted or moved before it could be read" in caplog.text
    assert "uid 3 was deleted or moved before it could be read" in caplog.text
    assert list(state.saved.values())[0][1] == 3  # and they are not looked for again


def test_move_mode(server: dovecot.Dovecot, account: tuple[str, str], intake: MailIntake,
                   collected: Collected) -> None:
    seed(server, account, message(1), message(2))
    poller(server, account, intake, State(), after="move", move_to="Done").poll_once()
    assert flags(server, account) == {}
    assert len(flags(server, account, "Done")) == 2
    assert len(collected.messages) == 2


def test_oversized_mail_becomes_a_note_and_stays(server: dovecot.Dovecot,
                                                 account: tuple[str, str], intake: MailIntake,
                                                 collected: Collected) -> None:
    seed(server, account, message(1, size=60_000))
    poller(server, account, intake, State(), max_message_bytes=10_000).poll_once()
    [note] = collected.messages
    assert "message too large" in note.text and "uid 1" in note.text
    assert note.subject == "Đơn hàng 1"
    assert len(flags(server, account)) == 1


def test_bad_password_stops_with_a_clear_error(server: dovecot.Dovecot,
                                               account: tuple[str, str], intake: MailIntake,
                                               caplog: pytest.LogCaptureFixture) -> None:
    bad = poller(server, (account[0], "wrong"), intake, State())
    with pytest.raises(ImapAuthFailed):
        bad.poll_once()
    started = time.monotonic()
    bad.run()  # returns: a refused login is not retried in a loop
    assert time.monotonic() - started < 20  # Dovecot itself delays failed logins by seconds
    assert bad.state.startswith("stopped: login as")
    assert "the poller stops until the configuration is fixed" in caplog.text


def test_idle_takes_mail_as_it_arrives(server: dovecot.Dovecot, account: tuple[str, str],
                                       intake: MailIntake, collected: Collected) -> None:
    with running(poller(server, account, intake, State(), poll_seconds=2)) as idle:
        wait_for(lambda: idle.state == "idle")
        seed(server, account, message(7))
        wait_for(lambda: collected.messages)
    assert [m.subject for m in collected.messages] == ["Đơn hàng 7"]


def test_without_idle_the_folder_is_polled(server: dovecot.Dovecot, account: tuple[str, str],
                                           intake: MailIntake, collected: Collected) -> None:
    """A server without IDLE (or `idle: false`): the folder is read every poll_seconds."""
    with running(poller(server, account, intake, State(), idle=False,
                        poll_seconds=0.5)) as polling:
        wait_for(lambda: polling.state == "polling")
        assert polling.state == "polling"
        seed(server, account, message(8))
        wait_for(lambda: collected.messages)
        seed(server, account, message(9))
        wait_for(lambda: len(collected.messages) == 2)
    assert [m.subject for m in collected.messages] == ["Đơn hàng 8", "Đơn hàng 9"]


def test_reconnects_after_the_server_drops(account: tuple[str, str], intake: MailIntake,
                                           caplog: pytest.LogCaptureFixture) -> None:
    unreachable = ImapPoller(Mailbox("hotro@shop.example.vn"),
                             ImapOptions(host="127.0.0.1", port=dovecot.free_port(),
                                         username=account[0], password=account[1],
                                         use_ssl=False, timeout=2), intake, State().load,
                             State().save)
    with running(unreachable):
        time.sleep(2.5)
    assert caplog.text.count("reconnecting in") >= 2  # backed off and tried again


def test_a_failing_inbox_is_retried_and_the_poller_lives_on(
        server: dovecot.Dovecot, account: tuple[str, str], tmp_path: Path,
        collected: Collected, clock: ManualClock, caplog: pytest.LogCaptureFixture) -> None:
    """Not only the network fails: when our own inbox refuses a mail (the database is down,
    say), the poller backs off and takes it again instead of its thread dying quietly."""
    failures = [RuntimeError("database is locked")]

    def put(message: InboundMessage) -> bool:
        if failures:
            raise failures.pop()
        return collected.put(message)

    flaky = MailIntake(Mailboxes([Mailbox("hotro@shop.example.vn")]),
                       FileStore(tmp_path / "raw", 1 << 30), FileStore(tmp_path / "files",
                                                                       1 << 20), put, clock)
    seed(server, account, message(1))
    with running(poller(server, account, flaky, State(), poll_seconds=1)):
        wait_for(lambda: collected.messages)
    assert [m.subject for m in collected.messages] == ["Đơn hàng 1"]
    assert "unexpected failure" in caplog.text and "database is locked" in caplog.text


def test_a_session_that_always_fails_backs_off_more_each_time(
        server: dovecot.Dovecot, account: tuple[str, str], intake: MailIntake,
        caplog: pytest.LogCaptureFixture) -> None:
    """The login works but the folder does not exist: the delay grows (1 s, 2 s, ...)
    instead of starting again at one second after every successful login."""
    with running(poller(server, account, intake, State(), folder="No-Such-Folder")):
        wait_for(lambda: sum("reconnecting in" in m for m in caplog.messages) >= 2, 30)
    delays = [line.rsplit("reconnecting in ", 1)[1] for line in caplog.messages
              if "reconnecting in" in line]
    assert delays[:2] == ["1 s", "2 s"]


def test_stop_ends_an_idle_within_a_second_or_two(server: dovecot.Dovecot,
                                                  account: tuple[str, str],
                                                  intake: MailIntake) -> None:
    with running(poller(server, account, intake, State(), poll_seconds=60)) as idle:
        wait_for(lambda: idle.state == "idle")  # an IDLE of 4 minutes
        assert idle.state == "idle"
        time.sleep(0.3)
        stopped = time.monotonic()
    assert time.monotonic() - stopped < 3


def test_mail_that_waited_long_is_taken_as_history(server: dovecot.Dovecot,
                                                   account: tuple[str, str],
                                                   intake: MailIntake, collected: Collected,
                                                   clock: ManualClock) -> None:
    """A mailbox connected with last month's mail in it: that mail becomes tickets, but
    nobody is told "we received it" a month late; what arrived today is acknowledged."""
    seed(server, account, message(1), arrived=clock.now() - timedelta(days=30))
    seed(server, account, message(2), arrived=clock.now() - timedelta(hours=2))
    assert poller(server, account, intake, State()).poll_once() == 2
    old, fresh = collected.messages
    assert (old.subject, old.meta.get("acknowledge")) == ("Đơn hàng 1", "no")
    assert (fresh.subject, fresh.meta.get("acknowledge")) == ("Đơn hàng 2", None)
