"""Where originals and derivatives live: content-addressed, written atomically, stored once.

Keys are the original's SHA-256 (64 lowercase hex digits), or that digest plus a derivative
suffix (``<sha256>.thumb.jpg``). Nothing else is a key, so no user input ever reaches a path.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol, Union, runtime_checkable

from .errors import DigestMismatch, InvalidKey, NotFound

THUMBNAIL_SUFFIX = "thumb.jpg"
PREVIEW_SUFFIX = "preview.jpg"

_KEY = re.compile(r"(?P<sha256>[0-9a-f]{64})(?:\.(?P<suffix>thumb\.jpg|preview\.jpg))?")
_CHUNK = 1024 * 1024
_TEMP_PREFIX = ".tmp-"

#: What ``put`` accepts: the bytes, a binary file object open for reading, or a path.
Source = Union[bytes, bytearray, memoryview, BinaryIO, os.PathLike]


def key_for(sha256: str, suffix: str | None = None) -> str:
    """The key of an original (no suffix) or of one of its derivatives."""
    key = f"{sha256}.{suffix}" if suffix else sha256
    parse_key(key)
    return key


def parse_key(key: str) -> re.Match[str]:
    """The key's parts (``sha256``, ``suffix``); ``InvalidKey`` for anything that is not a key."""
    match = _KEY.fullmatch(key) if isinstance(key, str) else None
    if match is None:
        raise InvalidKey(f"not a storage key: {key!r}")
    return match


@runtime_checkable
class Storage(Protocol):
    def put(self, key: str, data: Source) -> bool:
        """Store ``data`` under ``key``; True if written, False if it was already there.

        For an original the data must hash to the key (``DigestMismatch`` otherwise).
        """

    def open(self, key: str) -> BinaryIO:
        """A binary file object to read; ``NotFound`` if absent."""

    def exists(self, key: str) -> bool: ...

    def location(self, key: str) -> str:
        """A filesystem path or a URL the object can be served from."""

    def delete(self, key: str) -> bool:
        """Remove the object; False if there was none."""

    def size(self, key: str) -> int:
        """Size in bytes; ``NotFound`` if absent."""


class FileSystemStorage:
    """Objects under ``root/ab/cd/<key>``: the fan-out keeps every folder small."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        digest = parse_key(key)["sha256"]
        return self.root / digest[:2] / digest[2:4] / key

    def location(self, key: str) -> str:
        return str(self.path(key))

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def size(self, key: str) -> int:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError:
            raise NotFound(f"no stored object {key}") from None

    def open(self, key: str) -> BinaryIO:
        try:
            return self.path(key).open("rb")
        except FileNotFoundError:
            raise NotFound(f"no stored object {key}") from None

    def delete(self, key: str) -> bool:
        target = self.path(key)
        try:
            target.unlink()
        except FileNotFoundError:
            return False
        _fsync_dir(target.parent)
        return True

    def put(self, key: str, data: Source) -> bool:
        match = parse_key(key)
        target = self.path(key)
        # Same key, same bytes: an original's key is its digest, and a derivative is made
        # deterministically from it, so a second upload of the same photo costs nothing.
        if target.is_file():
            return False
        self._make_dirs(target.parent)
        fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=_TEMP_PREFIX, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                digest = _copy(data, out)
                out.flush()
                os.fsync(out.fileno())
            if match["suffix"] is None and digest != match["sha256"]:
                raise DigestMismatch(f"the data hashes to {digest}, not to {key}")
            # Writing to a temp name and renaming over means a crash leaves either nothing or
            # the whole file under the real name; concurrent puts of one key both rename
            # complete, identical files, so whoever wins, the result is good.
            os.replace(temp_name, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
            raise
        _fsync_dir(target.parent)
        return True

    def sweep_temporary(self, older_than: float) -> int:
        """Delete temporary files last written before ``older_than`` (a POSIX timestamp).

        They are puts cut off by a crash or a kill; never a real object, whose name is its key.
        The caller leaves a margin so a put under way is not swept from under its writer.
        """
        removed = 0
        for temporary in self.root.glob(f"*/*/{_TEMP_PREFIX}*.part"):
            try:
                if temporary.stat().st_mtime < older_than:
                    temporary.unlink()
                    removed += 1
            except FileNotFoundError:
                continue  # renamed into place or swept by another process meanwhile
        return removed

    def _make_dirs(self, folder: Path) -> None:
        # A new directory entry is durable only once its parent is fsynced.
        missing = []
        while not folder.is_dir() and folder != self.root:
            missing.append(folder)
            folder = folder.parent
        for created in reversed(missing):
            created.mkdir(exist_ok=True)
            _fsync_dir(created.parent)


def _copy(data: Source, out: BinaryIO) -> str:
    sha = hashlib.sha256()
    if isinstance(data, (bytes, bytearray, memoryview)):
        sha.update(data)
        out.write(data)
        return sha.hexdigest()
    if isinstance(data, os.PathLike):
        with open(data, "rb") as src:
            return _copy(src, out)
    while chunk := data.read(_CHUNK):
        sha.update(chunk)
        out.write(chunk)
    return sha.hexdigest()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
