"""The IMAP poller (IMAPClient): reads a mailbox folder and takes each new mail into the
inbox, then flags or moves it.

IMAPClient is blocking with one command stream per connection, so each mailbox runs in its
own thread: select the folder, take what is new (`BODY.PEEK[]`, so the mail stays unread for
people who also use the mailbox), then IDLE (renewed well within the servers' 10-30 minute
limits) or sleep when the server has no IDLE, and again. UIDVALIDITY and the last UID taken
are saved after each mail is safely in the inbox. Any failure (the network, the server, our
own inbox) reconnects with exponential back-off, reset only once a session has read the
folder, so a poller never dies quietly nor hammers a server that fails the same way each
time; a refused login stops the poller with one clear error instead. Mail already flagged
as taken is not taken again (after the saved state was lost, say). Mail over the size cap
is not downloaded: its headers become a message that says where the mail waits.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from connectors.email.intake import MailIntake
from connectors.email.mailboxes import Mailbox

log = logging.getLogger("switchboard.email.imap")

IDLE_SECONDS = 240  # renew IDLE every 4 minutes: far inside every server's timeout
IDLE_SLICE = 1.0   # how often an IDLE looks at the stop flag
MAX_DELAY = 300.0
FETCH_CHUNK = 50


@dataclass(frozen=True, slots=True)
class ImapOptions:
    host: str
    port: int
    username: str
    password: str
    use_ssl: bool = True
    starttls: bool = False
    folder: str = "INBOX"
    after: str = "flag"          # "flag" | "move"
    flag: str = "$Switchboard"
    move_to: str = "Switchboard"
    idle: bool = True
    poll_seconds: float = 60.0
    max_message_bytes: int = 20 * 1024 * 1024
    # Mail that arrived in the folder longer ago than this when we take it (a mailbox
    # connected with its old mail, a poller down for days) is history: it becomes tickets
    # like the rest, but nobody is sent "we received it" now.
    history_older_than: float = 86400.0
    timeout: float = 60.0
    ssl_context: ssl.SSLContext | None = None


LoadState = Callable[[str, str], "tuple[int, int] | None"]
SaveState = Callable[[str, str, int, int], None]


class ImapAuthFailed(Exception):
    pass


class ImapPoller:
    def __init__(self, mailbox: Mailbox, options: ImapOptions, intake: MailIntake,
                 load_state: LoadState, save_state: SaveState) -> None:
        self.mailbox = mailbox
        self.options = options
        self.intake = intake
        self.load_state = load_state
        self.save_state = save_state
        self.stopping = threading.Event()
        self.taken = 0
        self.state = "starting"
        self._custom_flags = True
        self._target_ready = False
        self._delay = 1.0

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        """Blocking: run in a thread. Returns when stopped or when the login is refused."""
        self._delay = 1.0
        while not self.stopping.is_set():
            try:
                with self._connect() as client:
                    self._session(client)
            except ImapAuthFailed as exc:
                self.state = f"stopped: {exc}"
                log.error("IMAP %s: %s; the poller stops until the configuration is fixed",
                          self.mailbox.address, exc)
                return
            except (OSError, ssl.SSLError, IMAPClient.Error, IMAPClient.AbortError) as exc:
                self._back_off(f"{exc}")
            except Exception as exc:  # our inbox or a surprise: retried, never a dead thread
                log.exception("IMAP %s: unexpected failure", self.mailbox.address)
                self._back_off(f"{type(exc).__name__}: {exc}")
        self.state = "stopped"

    def _back_off(self, why: str) -> None:
        self.state = f"reconnecting: {why}"
        log.warning("IMAP %s: %s; reconnecting in %.0f s", self.mailbox.address, why,
                    self._delay)
        self.stopping.wait(self._delay)
        self._delay = min(self._delay * 2, MAX_DELAY)

    def poll_once(self) -> int:
        """Connect, take what is new, disconnect: for tests and `switchboard` one-shots."""
        with self._connect() as client:
            return self._take_new(client, self._select(client))

    def _connect(self) -> IMAPClient:
        o = self.options
        client = IMAPClient(o.host, port=o.port, ssl=o.use_ssl, ssl_context=o.ssl_context,
                            timeout=o.timeout)
        client.normalise_times = False  # INTERNALDATE with its zone, compared with our clock
        try:
            if o.starttls and not o.use_ssl:
                client.starttls(o.ssl_context)
            client.login(o.username, o.password)
        except LoginError as exc:
            client.shutdown()
            raise ImapAuthFailed(f"login as {o.username!r} refused ({exc})") from exc
        return client

    def _select(self, client: IMAPClient) -> int:
        info = client.select_folder(self.options.folder)
        uidvalidity = int(info[b"UIDVALIDITY"])
        self._custom_flags = b"\\*" in (info.get(b"PERMANENTFLAGS") or ())
        return uidvalidity

    def _session(self, client: IMAPClient) -> None:
        uidvalidity = self._select(client)
        can_idle = self.options.idle and client.has_capability("IDLE")
        self.state = "idle" if can_idle else "polling"
        while not self.stopping.is_set():
            self._take_new(client, uidvalidity)
            self._delay = 1.0  # this session works: the next failure starts a new back-off
            if can_idle:
                self._idle(client, min(IDLE_SECONDS, self.options.poll_seconds * 4))
            else:
                self.stopping.wait(self.options.poll_seconds)
                client.noop()

    def _idle(self, client: IMAPClient, seconds: float) -> None:
        """IDLE until the server says something, `seconds` pass or we are stopped."""
        deadline = time.monotonic() + seconds
        client.idle()
        try:
            while not self.stopping.is_set():
                left = deadline - time.monotonic()
                if left <= 0 or client.idle_check(timeout=min(IDLE_SLICE, left)):
                    return
        finally:
            client.idle_done()

    def _take_new(self, client: IMAPClient, uidvalidity: int) -> int:
        address, folder = self.mailbox.address, self.options.folder
        saved = self.load_state(address, folder)
        last = 0
        if saved is not None:
            if saved[0] == uidvalidity:
                last = saved[1]
            else:
                log.warning("IMAP %s/%s: UIDVALIDITY changed (%s → %s): reading the folder "
                            "again, the dedup key keeps it from doubling", address, folder,
                            saved[0], uidvalidity)
        criteria: list[str] = ["UID", f"{last + 1}:*"]
        if self.options.after == "flag" and self._custom_flags:
            criteria += ["UNKEYWORD", self.options.flag]  # taken before, by an earlier state
        # `UID n:*` also returns the newest message when n is past the end: filter.
        uids = sorted(u for u in client.search(criteria) if u > last)
        # what waited in the folder long before we took it (all of it, the first time a
        # mailbox with years of mail is connected) is history: no "we received it" now
        cutoff = self.intake.clock.now() - timedelta(seconds=self.options.history_older_than)
        taken = 0
        for start in range(0, len(uids), FETCH_CHUNK):
            chunk = uids[start:start + FETCH_CHUNK]
            sizes = client.fetch(chunk, ["RFC822.SIZE", "INTERNALDATE"])
            for uid in chunk:
                if self.stopping.is_set():
                    return taken
                size = int(sizes.get(uid, {}).get(b"RFC822.SIZE", 0))
                arrived = sizes.get(uid, {}).get(b"INTERNALDATE")
                history = bool(isinstance(arrived, datetime) and arrived.tzinfo
                               and arrived < cutoff)
                self._take_one(client, uid, size, history)
                self.save_state(address, folder, uidvalidity, uid)
                taken += 1
        self.taken += taken
        return taken

    def _take_one(self, client: IMAPClient, uid: int, size: int, history: bool) -> None:
        mailbox = self.mailbox.address
        oversized = size > self.options.max_message_bytes
        asked, answer = (("BODY.PEEK[HEADER]", b"BODY[HEADER]") if oversized
                         else ("BODY.PEEK[]", b"BODY[]"))
        # a mail expunged by someone else since our SEARCH comes back absent or as NIL
        raw = client.fetch([uid], [asked]).get(uid, {}).get(answer)
        if raw is None:
            log.info("IMAP %s uid %s was deleted or moved before it could be read: skipped",
                     mailbox, uid)
            return
        if oversized:
            note = (f"\r\n\r\n[Thư quá lớn / message too large: {size / 1048576:.1f} MB; "
                    f"not imported, it waits in {mailbox} folder {self.options.folder} "
                    f"uid {uid}]\r\n").encode()
            log.error("IMAP %s uid %s is %.1f MB, over the cap: headers only, the mail stays "
                      "in the mailbox", mailbox, uid, size / 1048576)
            raw = bytes(raw).rstrip(b"\r\n") + note
        self.intake.take(bytes(raw), (mailbox,), history)
        self._after(client, uid)

    def _after(self, client: IMAPClient, uid: int) -> None:
        o = self.options
        if o.after == "move":
            if not self._target_ready:
                if not client.folder_exists(o.move_to):
                    client.create_folder(o.move_to)
                self._target_ready = True
            if client.has_capability("MOVE"):
                client.move([uid], o.move_to)
            else:
                client.copy([uid], o.move_to)
                client.delete_messages([uid])
                client.expunge([uid]) if client.has_capability("UIDPLUS") else client.expunge()
        else:
            client.add_flags([uid], [o.flag if self._custom_flags else "\\Seen"])
