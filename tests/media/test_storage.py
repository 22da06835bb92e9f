"""The media storage contract, run against every backend; then what only the filesystem does.

The S3 backend talks real HTTP to moto's S3-compatible server, started once on a free port.
"""

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

from .moto_s3 import make_s3, s3_credentials, s3_endpoint  # noqa: F401 - fixtures

DATA = b"\xff\xd8 pretend this is a 3 MB photo \xff\xd9" * 1000
SHA = hashlib.sha256(DATA).hexdigest()


@pytest.fixture(params=["filesystem", "s3"])
def storage(request, tmp_path) -> Storage:
    if request.param == "filesystem":
        return FileSystemStorage(tmp_path / "media")
    request.getfixturevalue("s3_credentials")
    return make_s3(request.getfixturevalue("s3_endpoint"))


def all_files(storage: Storage) -> list[str]:
    """Every stored object, as a path relative to the backend's root."""
    if isinstance(storage, FileSystemStorage):
        return sorted(str(p.relative_to(storage.root)) for p in storage.root.rglob("*") if p.is_file())
    listed = storage.client.list_objects_v2(Bucket=storage.bucket)
    return sorted(item["Key"].removeprefix(storage.prefix) for item in listed.get("Contents", []))


def read(storage: Storage, key: str) -> bytes:
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


def test_same_bytes_stored_once(storage):
    assert storage.put(SHA, DATA) is True

    assert storage.put(SHA, io.BytesIO(DATA)) is False

    assert all_files(storage) == [f"{SHA[:2]}/{SHA[2:4]}/{SHA}"]
    assert read(storage, SHA) == DATA


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


def test_open_streams(storage):
    storage.put(SHA, DATA)

    with storage.open(SHA) as fh:
        first = fh.read(1000)
        rest = fh.read()

    assert first == DATA[:1000] and first + rest == DATA


# -- the filesystem backend ----------------------------------------------------------------------

@pytest.fixture
def fs(tmp_path) -> FileSystemStorage:
    return FileSystemStorage(tmp_path / "media")


def test_filesystem_location_is_the_fanned_out_path(fs):
    fs.put(SHA, DATA)

    assert fs.location(SHA) == str(fs.root / SHA[:2] / SHA[2:4] / SHA)


def test_filesystem_keeps_the_first_copy(fs):
    fs.put(SHA, DATA)
    inode = os.stat(fs.path(SHA)).st_ino

    fs.put(SHA, DATA)

    assert os.stat(fs.path(SHA)).st_ino == inode


# -- the S3 backend -----------------------------------------------------------------------------

def test_s3_objects_live_under_the_prefix(s3_endpoint, s3_credentials):
    s3 = make_s3(s3_endpoint, prefix="/campaign-7/")
    s3.put(SHA, DATA)

    names = [item["Key"] for item in s3.client.list_objects_v2(Bucket=s3.bucket)["Contents"]]
    assert names == [f"campaign-7/{SHA[:2]}/{SHA[2:4]}/{SHA}"]
    assert s3.location(SHA) == f"s3://{s3.bucket}/campaign-7/{SHA[:2]}/{SHA[2:4]}/{SHA}"


def test_s3_put_does_not_overwrite_an_object_written_meanwhile(s3_endpoint, s3_credentials):
    s3 = make_s3(s3_endpoint)
    s3.put(SHA, DATA)
    # A second writer that checked before the first finished: its conditional write is refused.
    s3.exists = lambda key: False  # type: ignore[method-assign]

    assert s3.put(SHA, DATA) is False


def test_filesystem_sweeps_temporary_files_left_by_a_crash(fs):
    fs.put(SHA, DATA)
    folder = fs.path(SHA).parent
    crashed = folder / ".tmp-abc123.part"
    crashed.write_bytes(DATA[:100])
    writing = folder / ".tmp-def456.part"  # a put under way right now
    writing.write_bytes(DATA[:100])
    os.utime(crashed, (1_000_000, 1_000_000))

    assert fs.sweep_temporary(older_than=2_000_000) == 1

    assert not crashed.exists() and writing.exists()
    assert read(fs, SHA) == DATA
