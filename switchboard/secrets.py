"""The installation's secret (reply tokens): from the config, or generated once into
var/secret.key so that tokens in mail already sent stay valid across restarts."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from switchboard.settings import Settings

SECRET_FILE = Path("var/secret.key")


def load_secret(settings: Settings, path: Path = SECRET_FILE) -> bytes:
    if settings.secret:
        return settings.secret.encode()
    if path.exists():
        return path.read_text(encoding="ascii").strip().encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value + "\n")
    return value.encode()
