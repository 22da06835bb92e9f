"""How the client reaches a server: real HTTP, or any WSGI app in-process (for tests).

A transport sends one request and returns ``(status, body)``; it raises
:class:`~sample_client.errors.NetworkError` when no answer came back, which is what a
lost response looks like to a phone.
"""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.parse
import urllib.request
import zlib
from typing import Any, Callable, Protocol

from sample_client.errors import NetworkError


class Transport(Protocol):
    def request(self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None,
                token: str | None = None) -> tuple[int, Any]: ...


def _url(path: str, params: dict[str, Any] | None) -> str:
    query = {k: v for k, v in (params or {}).items() if v is not None}
    return path + ("?" + urllib.parse.urlencode(query) if query else "")


class HttpTransport:
    """Real HTTP. With ``compress`` (the default) bodies of ``COMPRESS_FROM`` bytes or more go
    gzip-encoded and answers are asked for gzip-encoded: on a weak mobile link the bytes are the
    cost. ``sent_bytes`` and ``received_bytes`` count bodies as they crossed the wire."""

    COMPRESS_FROM = 1024

    def __init__(self, base_url: str, timeout: float = 30, *, compress: bool = True) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.compress = compress
        self.sent_bytes = 0
        self.received_bytes = 0

    def request(self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None,
                token: str | None = None) -> tuple[int, Any]:
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        req = urllib.request.Request(self.base_url + _url(path, params), method=method)
        req.add_header("Content-Type", "application/json")
        if self.compress:
            req.add_header("Accept-Encoding", "gzip")
            if data is not None and len(data) >= self.COMPRESS_FROM:
                data = gzip.compress(data, compresslevel=6)
                req.add_header("Content-Encoding", "gzip")
        req.data = data
        self.sent_bytes += len(data or b"")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as response:
                return response.status, self._read(response)
        except urllib.error.HTTPError as error:
            return error.code, self._read(error)
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            raise NetworkError(str(error)) from error

    def _read(self, response: Any) -> Any:
        raw = response.read()
        self.received_bytes += len(raw)
        encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
        if encoding == "gzip":
            try:
                raw = gzip.decompress(raw)
            except (OSError, EOFError, zlib.error) as error:  # an answer cut short on the way
                raise NetworkError(f"the answer did not inflate: {error}") from error
        elif encoding != "identity":
            raise NetworkError(f"the server answered in an encoding not asked for: {encoding}")
        return _decode(raw)


class WSGITransport:
    """Calls a WSGI application directly, no sockets; ``drop`` may discard answers to simulate loss."""

    def __init__(self, app: Any, drop: Callable[[str, str], bool] | None = None) -> None:
        from werkzeug.test import Client

        self.client = Client(app)
        self.drop = drop

    def request(self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None,
                token: str | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.client.open(_url(path, params), method=method, json=body, headers=headers)
        if self.drop is not None and self.drop(method, path):
            raise NetworkError("the response was lost")
        return response.status_code, _decode(response.get_data())


def _decode(raw: bytes) -> Any:
    return json.loads(raw) if raw else None
