"""media.storage: content-addressed, atomic, stored once."""

from __future__ import annotations

import hashlib
import io
import os
import threading

import pytest

from media import (
    PREVIEW_SUFFIX,
    THUMBNAIL_SUFFIX,
    FileSystemStorage,
    InvalidKey,
    NotFound,
    Storage,
    key_for,
)
from media.errors import DigestMismatch

DATA = b"\xff\xd8 pretend this is a 3 MB photo \xff\xd9" * 1000
SHA = hashlib.sha256(DATA).hexdigest()


@pytest.fixture
def storage(tmp_path) -> FileSystemStorage:
    return FileSystemStorage(tmp_path / "media")


def all_files(storage: FileSystemStorage) -> list[str]:
    return sorted(str(p.relative_to(storage.root)) for p in storage.root.rglob("*") if p.is_file())


def read(storage: FileSystemStorage, key: str) -> bytes:
    with storage.open(key) as fh:
        return fh.read()


def test_is_a_storage(storage):
    assert isinstance(storage, Storage)


@pytest.mark.parametrize("as_", ["bytes", "file", "path"])
def test_roundtrip(storage, tmp_path, as_):
    source = tmp_path / "upload.bin"
    source.write_bytes(DATA)
    data = {"bytes": DATA, "file": io.BytesIO(DATA), "path": source}[as_]

    assert storage.put(SHA, data) is True

    assert storage.exists(SHA)
    assert read(storage, SHA) == DATA
    assert storage.size(SHA) == len(DATA)
    assert all_files(storage) == [f"{SHA[:2]}/{SHA[2:4]}/{SHA}"]
    assert storage.location(SHA) == str(storage.root / SHA[:2] / SHA[2:4] / SHA)


def test_same_bytes_stored_once(storage):
    assert storage.put(SHA, DATA) is True
    inode = os.stat(storage.path(SHA)).st_ino

    assert storage.put(SHA, io.BytesIO(DATA)) is False

    assert os.stat(storage.path(SHA)).st_ino == inode
    assert all_files(storage) == [f"{SHA[:2]}/{SHA[2:4]}/{SHA}"]


def test_derivatives_live_beside_their_original(storage):
    thumb, preview = key_for(SHA, THUMBNAIL_SUFFIX), key_for(SHA, PREVIEW_SUFFIX)
    storage.put(SHA, DATA)
    storage.put(thumb, b"small jpeg")
    storage.put(preview, b"bigger jpeg")

    assert thumb == f"{SHA}.thumb.jpg"
    assert read(storage, thumb) == b"small jpeg"
    assert storage.size(preview) == len(b"bigger jpeg")
    assert len(all_files(storage)) == 3


def test_data_must_match_its_hash(storage):
    with pytest.raises(DigestMismatch):
        storage.put(SHA, DATA + b"tampered")

    assert not storage.exists(SHA)
    assert all_files(storage) == []


@pytest.mark.parametrize(
    "key",
    [
        "../../etc/passwd",
        SHA.upper(),
        SHA[:-1],
        SHA + "0",
        f"{SHA}/../x",
        f"{SHA}.exe",
        f"{SHA}.thumb.jpg/..",
        f"{SHA}\n",
        f"ab/cd/{SHA}",
        "",
    ],
)
def test_bad_keys_refused(storage, key):
    for call in (
        lambda: storage.put(key, DATA),
        lambda: storage.open(key),
        lambda: storage.exists(key),
        lambda: storage.delete(key),
        lambda: storage.location(key),
        lambda: storage.size(key),
    ):
        with pytest.raises(InvalidKey):
            call()
    assert all_files(storage) == []


def test_missing_and_delete(storage):
    with pytest.raises(NotFound):
        storage.open(SHA)
    with pytest.raises(NotFound):
        storage.size(SHA)
    assert storage.delete(SHA) is False

    storage.put(SHA, DATA)
    assert storage.delete(SHA) is True
    assert not storage.exists(SHA)


class FailingUpload(io.RawIOBase):
    """A client that disconnects after the first megabyte."""

    def __init__(self) -> None:
        self.calls = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.calls += 1
        if self.calls > 1:
            raise ConnectionResetError("client went away")
        return b"x" * size


def test_failed_write_leaves_nothing(storage):
    with pytest.raises(ConnectionResetError):
        storage.put(SHA, FailingUpload())

    assert not storage.exists(SHA)
    assert all_files(storage) == []


def test_concurrent_puts_of_one_hash(storage):
    barrier = threading.Barrier(12)
    errors: list[BaseException] = []

    def upload() -> None:
        try:
            barrier.wait()
            storage.put(SHA, io.BytesIO(DATA))
        except BaseException as exc:  # noqa: BLE001 - reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=upload) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert all_files(storage) == [f"{SHA[:2]}/{SHA[2:4]}/{SHA}"]
    assert hashlib.sha256(read(storage, SHA)).hexdigest() == SHA
