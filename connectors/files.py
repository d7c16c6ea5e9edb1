"""Content-addressed file storage for raw mail and attachments (var/ by default).

Files are named by their SHA-256, so the same attachment sent twice is stored once and a
half-written file is never mistaken for a finished one (written to a temporary name, then
renamed). Size caps are enforced here: an oversized file is listed on the ticket with its
name, type, size and checksum, and said to be not stored.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from tickets.messages import Attachment


class FileStore:
    def __init__(self, root: Path, max_bytes: int, max_files: int = 20,
                 fsync: bool = True) -> None:
        """`fsync=False` is for bulk imports that sync once at the end (`sync()`)."""
        self.root = root
        self.max_bytes = max_bytes
        self.max_files = max_files
        self.fsync = fsync

    def _path(self, digest: str, suffix: str = "") -> Path:
        return self.root / digest[:2] / f"{digest}{suffix}"

    def put(self, payload: bytes, suffix: str = "") -> tuple[str, Path]:
        digest = hashlib.sha256(payload).hexdigest()
        path = self._path(digest, suffix)
        try:
            if path.stat().st_size == len(payload):
                return digest, path  # content-addressed: same name, same size, same bytes
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
        if not self.fsync:  # bulk import: plain writes, one sync() at the end
            path.write_bytes(payload)
            return digest, path
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest, path

    @staticmethod
    def sync() -> None:
        os.sync()

    def attach(self, filename: str, content_type: str, payload: bytes,
               index: int) -> Attachment:
        """Store one attachment (the `index`-th of its message) within the caps."""
        digest = hashlib.sha256(payload).hexdigest()
        if len(payload) > self.max_bytes or index >= self.max_files:
            return Attachment(filename=filename, content_type=content_type, size=len(payload),
                              sha256=digest, stored_path=None)
        _, path = self.put(payload)
        return Attachment(filename=filename, content_type=content_type, size=len(payload),
                          sha256=digest, stored_path=str(path))
