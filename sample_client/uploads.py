"""Photos: kept on the phone, named by SHA-256, uploaded over tus 1.0 and resumed after a restart.

A photo is registered in the same local transaction as the capture that names it, and its
bytes stay on the phone until the server has them. The upload's URL is stored as soon as the
server made it and the offset after every chunk the server acknowledged, so an app killed in
the middle asks the server where to resume (``HEAD``, as tus says: the server may have kept
more or, after a power cut, less than the app last heard) and sends only the rest.

Before creating an upload the phone asks ``HEAD /api/v1/photos/<sha256>``: a photo the server
already has (the same picture on another finding, or an upload whose answer was lost) is not
sent again.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any, Callable

from sample_client.errors import ServerRefused
from sample_client.store import Store
from sample_client.transport import Transport

TUS_VERSION = "1.0.0"
UPLOADS = "/api/v1/uploads/"
#: Bytes per PATCH: a lost signal costs at most one chunk, and each stays well under the
#: server's body limit.
CHUNK_BYTES = 256 * 1024
#: Answers that say the upload is gone (expired, abandoned, or finished and cleaned up).
_GONE = (404, 410)


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class PhotoQueue:
    def __init__(self, store: Store, transport: Transport, token: Callable[[], str | None], *,
                 folder: str | Path | None = None, chunk_bytes: int = CHUNK_BYTES) -> None:
        self.store = store
        self.transport = transport
        self.token = token
        #: Where the phone keeps copies of its photos (a camera roll may lose the original).
        self.folder = Path(folder) if folder else None
        self.chunk_bytes = chunk_bytes
        #: Photo bytes that crossed the wire (PATCH bodies), for the user and the simulator.
        self.sent_bytes = 0
        self._last_body = b""

    # -- capture --------------------------------------------------------------------------------
    def keep(self, path: str | Path) -> str:
        """Register a photo file (call inside the capture's transaction); returns its SHA-256."""
        sha256 = sha256_of(path)
        kept = Path(path)
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            kept = self.folder / f"{sha256}{Path(path).suffix.lower() or '.jpg'}"
            if not kept.exists():
                partial = kept.with_suffix(kept.suffix + ".part")
                shutil.copyfile(path, partial)
                os.replace(partial, kept)  # never a half-copied photo under its final name
        self.store.add_photo(sha256, str(kept), kept.stat().st_size)
        return sha256

    def pending(self) -> list[dict[str, Any]]:
        return self.store.photos("pending")

    def pending_bytes(self) -> int:
        return sum(p["size"] - p["offset"] for p in self.pending())

    # -- upload ---------------------------------------------------------------------------------
    def upload(self, sha256: str, progress: Callable[[int], None] | None = None) -> str:
        """Send one photo (the part the server lacks); returns its status: done or failed.
        Raises NetworkError or ServerRefused when the server could not be reached or refused
        for now; the next call resumes."""
        photo = self.store.photo(sha256)
        if photo is None or photo["status"] != "pending":
            return photo["status"] if photo else "done"
        url, offset = photo["upload_url"], photo["offset"]
        if url:
            offset = self._offset(url)
        if offset is None or not url:
            if self._server_has(sha256):
                return self._finish(sha256)
            url, offset = self._create(photo), 0
        if progress and offset:
            progress(offset - photo["offset"])
        damaged = 0
        with open(photo["path"], "rb") as f:
            while offset < photo["size"]:
                f.seek(offset)
                chunk = f.read(self.chunk_bytes)
                status, headers = self._send("PATCH", url, chunk, {
                    "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream",
                    "Upload-Checksum": "sha256 " + base64.b64encode(hashlib.sha256(chunk).digest()).decode()})
                self.sent_bytes += len(chunk)
                if status == 204:
                    new = int(headers["Upload-Offset"])
                elif status == 409 or status == 460:  # not where the server is, or damaged on the way
                    damaged += status == 460
                    if damaged > 3:  # the bytes kept here no longer hash to the photo's name
                        return self._fail(sha256, headers, status)
                    new = self._offset(url)
                    if new is None:
                        return self.upload(sha256, progress)
                elif status in _GONE:
                    self.store.set_photo(sha256, upload_url=None, offset=0)
                    return self.upload(sha256, progress)
                elif status in (400, 413, 415, 422):  # the photo itself is refused: show the user
                    return self._fail(sha256, headers, status)
                else:
                    raise ServerRefused(status, {"code": f"upload_{status}"}, _seconds(headers.get("Retry-After")))
                if progress:
                    progress(new - offset)
                offset = new
                self.store.set_photo(sha256, offset=offset)
        return self._finish(sha256)

    def _finish(self, sha256: str) -> str:
        self.store.set_photo(sha256, status="done", upload_url=None)
        return "done"

    def _fail(self, sha256: str, headers: dict[str, str], status: int) -> str:
        try:
            problem = json.loads(self._last_body)
        except ValueError:
            problem = {}
        detail = problem.get("detail") or problem.get("title") or "" if isinstance(problem, dict) else ""
        code = problem.get("code", "") if isinstance(problem, dict) else ""
        self.store.set_photo(sha256, status="failed", upload_url=None, problem=f"{status} {code}: {detail}")
        return "failed"

    def _create(self, photo: dict[str, Any]) -> str:
        metadata = "sha256 " + base64.b64encode(photo["sha256"].encode()).decode()
        status, headers = self._send("POST", UPLOADS, None, {
            "Upload-Length": str(photo["size"]), "Upload-Metadata": metadata})
        if status != 201:
            if status in (400, 413, 415, 422):
                self._fail(photo["sha256"], headers, status)
            raise ServerRefused(status, {"code": f"upload_{status}"}, _seconds(headers.get("Retry-After")))
        url = headers["Location"]
        self.store.set_photo(photo["sha256"], upload_url=url, offset=0)
        return url

    def _offset(self, url: str) -> int | None:
        """Where the server is in this upload, or None when the upload is gone."""
        status, headers = self._send("HEAD", url, None, {})
        if status in _GONE:
            return None
        if status != 200:
            raise ServerRefused(status, {"code": f"upload_{status}"}, _seconds(headers.get("Retry-After")))
        return int(headers["Upload-Offset"])

    def _server_has(self, sha256: str) -> bool:
        status, _headers = self._send("HEAD", f"/api/v1/photos/{sha256}", None, {})
        return status == 200

    def _send(self, method: str, url: str, data: bytes | None, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
        headers = {"Tus-Resumable": TUS_VERSION, **headers}
        if token := self.token():
            headers["Authorization"] = f"Bearer {token}"
        status, answer, body = self.transport.send(method, url, data=data, headers=headers)
        if status == 401:
            raise ServerRefused(401, {"code": "unauthenticated"})
        self._last_body = body
        return status, {k.title(): v for k, v in answer.items()}

    def upload_all(self, progress: Callable[[int], None] | None = None) -> dict[str, int]:
        """Every pending photo; network errors propagate (the caller backs off)."""
        counts = {"done": 0, "failed": 0}
        for photo in self.pending():
            counts[self.upload(photo["sha256"], progress)] += 1
        return counts


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None

