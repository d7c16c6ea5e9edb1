"""A real Dovecot (Debian's dovecot-imapd) on loopback for the IMAP poller's tests, run
without root from a throw-away folder (see PLATFORMS.md)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Dovecot:
    root: Path
    port: int
    process: subprocess.Popen[bytes]

    def add_user(self, user: str, password: str) -> None:
        with (self.root / "users").open("a", encoding="utf-8") as users:
            users.write(f"{user}:{{PLAIN}}{password}\n")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.root, ignore_errors=True)


CONFIG = """protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
default_internal_user = nobody
default_internal_group = nogroup
default_login_user = nobody
mail_location = maildir:{root}/mail/%u/Maildir
mail_fsync = never
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  chroot =
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={root}/mail/%u
}}
"""


def start() -> Dovecot | None:
    if not Path(DOVECOT).exists():
        return None
    root = Path(tempfile.mkdtemp(prefix="dv", dir="/tmp"))  # short: socket paths are limited
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir()
    root.chmod(0o755)
    (root / "mail").chmod(0o777)
    (root / "users").write_text("", encoding="utf-8")
    port = free_port()
    (root / "dovecot.conf").write_text(CONFIG.format(root=root, port=port), encoding="utf-8")
    with (root / "stderr.log").open("wb") as errors:
        process = subprocess.Popen([DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
                                   stdout=subprocess.DEVNULL, stderr=errors)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("dovecot exited: "
                               + (root / "stderr.log").read_text(errors="replace"))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return Dovecot(root, port, process)
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("dovecot did not start listening")
