"""The content-addressed file store: each payload once under its digest, an interrupted
bulk write repaired on the next import, and whole files read back exactly."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from connectors.files import FileStore, read_bytes


@pytest.mark.parametrize("fsync", [True, False])
def test_a_payload_is_stored_once_under_its_digest(tmp_path: Path, fsync: bool) -> None:
    store = FileStore(tmp_path / "raw", max_bytes=1 << 20, fsync=fsync)
    payload = "Chào shop, đơn DH20261234 chưa giao".encode()
    digest, path = store.put(payload, suffix=".eml")
    again = store.put(payload, suffix=".eml")
    assert digest == hashlib.sha256(payload).hexdigest()
    assert again == (digest, path) and path.name == f"{digest}.eml"
    assert path.parent.name == digest[:2] and path.read_bytes() == payload
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left


def test_a_bulk_write_cut_short_is_completed_on_the_next_import(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "raw", max_bytes=1 << 20, fsync=False)
    payload = b"x" * 5000
    _, path = store.put(payload)
    path.write_bytes(payload[:1000])  # what a crash in the middle of the write leaves
    assert store.put(payload)[1] == path
    assert path.read_bytes() == payload


def test_read_bytes_reads_whole_files(tmp_path: Path) -> None:
    for size in (0, 1, 4096, 3 << 20):
        path = tmp_path / f"f{size}"
        data = bytes(i % 251 for i in range(size))
        path.write_bytes(data)
        assert read_bytes(path) == data
    with pytest.raises(FileNotFoundError):
        read_bytes(tmp_path / "missing")


@pytest.mark.parametrize("fsync", [True, False])
def test_a_folder_removed_behind_the_store_is_made_again(tmp_path: Path, fsync: bool) -> None:
    import shutil

    store = FileStore(tmp_path / "raw", max_bytes=1 << 20, fsync=fsync)
    _, path = store.put(b"first")
    shutil.rmtree(tmp_path / "raw")  # an operator cleaning up, while the poller runs
    _, again = store.put(b"first")
    assert again == path and path.read_bytes() == b"first"
