"""Raw mail from files: a folder of .eml files (searched recursively) or an mbox file, for
migrating an old mailbox into Switchboard and for benchmarks."""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from pathlib import Path


def raw_messages(path: Path) -> Iterator[tuple[str, bytes]]:
    """(where it came from, raw bytes) for every message under `path`."""
    if path.is_dir():
        for file in sorted(path.rglob("*.eml")):
            yield str(file), file.read_bytes()
        return
    box = mailbox.mbox(str(path), create=False)
    try:
        for key in box.iterkeys():
            yield f"{path}#{key}", box.get_bytes(key)
    finally:
        box.close()
