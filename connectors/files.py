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
        self._made: set[Path] = set()  # fan-out folders known to exist

    def _path(self, digest: str, suffix: str = "") -> Path:
        return self.root / digest[:2] / f"{digest}{suffix}"

    def put(self, payload: bytes, suffix: str = "") -> tuple[str, Path]:
        """Store `payload` under its digest. Written with few system calls (each costs tens
        of microseconds in a sandboxed kernel, and a mail import makes thousands)."""
        digest = hashlib.sha256(payload).hexdigest()
        path = self._path(digest, suffix)
        if path.parent not in self._made:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(path.parent)
        try:
            return digest, self._write(path, payload)
        except FileNotFoundError:  # the folder was removed behind our back: make it again
            path.parent.mkdir(parents=True, exist_ok=True)
            return digest, self._write(path, payload)

    def _write(self, path: Path, payload: bytes) -> Path:
        if not self.fsync:  # bulk import: plain writes, one sync() at the end
            _write_once(path, payload)
            return path
        if _same_size(path, len(payload)):
            return path  # content-addressed: same name, same size, same bytes
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
        return path

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


def read_bytes(path: str | Path) -> bytes:
    """A whole file in four system calls (open, fstat, read, close); `Path.read_bytes`
    makes seven."""
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        parts = [os.read(fd, size + 1)]  # asking one byte more tells the end in one call
        got = len(parts[0])
        while got != size:  # a short read, or the file grew meanwhile: read to the end
            more = os.read(fd, 1 << 20)
            if not more:
                break
            parts.append(more)
            got += len(more)
        return parts[0] if len(parts) == 1 else b"".join(parts)
    finally:
        os.close(fd)


def _same_size(path: Path, size: int) -> bool:
    try:
        return os.stat(path).st_size == size
    except FileNotFoundError:
        return False


def _write_once(path: Path, payload: bytes) -> None:
    """Create `path` with `payload`; an existing file of the same size is the same content
    (names are digests) and stays, a shorter one (an interrupted write) is replaced."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        if _same_size(path, len(payload)):
            return
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    try:
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
