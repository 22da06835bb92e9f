"""How the client reaches a server: real HTTP, or any WSGI app in-process (for tests).

A transport sends one JSON request and returns ``(status, body)`` (``exchange`` adds the
answer's headers: ``Retry-After`` matters to a phone); ``send`` carries raw bytes, for the tus
photo uploads. Both raise :class:`~sample_client.errors.NetworkError` when no answer came back,
which is what a lost response looks like to a phone.
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

    def exchange(self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None,
                 token: str | None = None) -> tuple[int, Any, dict[str, str]]: ...

    def send(self, method: str, path: str, *, data: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]: ...


def _url(path: str, params: dict[str, Any] | None) -> str:
    query = {k: v for k, v in (params or {}).items() if v is not None}
    return path + ("?" + urllib.parse.urlencode(query) if query else "")


#: Bodies from this size are sent gzip-encoded by a compressing transport.
COMPRESS_FROM = 1024


class Wire:
    """What a compressing transport does to bodies, and the bytes that crossed the wire:
    bodies of ``COMPRESS_FROM`` bytes or more go gzip-encoded and answers are asked for
    gzip-encoded (on a weak mobile link the bytes are the cost). A transport subclasses it and
    supplies ``send``; :class:`~sample_client.faults.FaultyLink` does so around another one."""

    def __init__(self, compress: bool) -> None:
        self.compress = compress
        self.sent_bytes = 0
        self.received_bytes = 0

    def outgoing(self, body: Any) -> tuple[bytes | None, dict[str, str]]:
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        headers = {"Content-Type": "application/json"}
        if self.compress:
            headers["Accept-Encoding"] = "gzip"
            if data is not None and len(data) >= COMPRESS_FROM:
                data = gzip.compress(data, compresslevel=6)
                headers["Content-Encoding"] = "gzip"
        self.sent_bytes += len(data or b"")
        return data, headers

    def incoming(self, raw: bytes, encoding: str | None) -> Any:
        self.received_bytes += len(raw)
        encoding = (encoding or "identity").strip().lower()
        if encoding == "gzip":
            try:
                raw = gzip.decompress(raw)
            except (OSError, EOFError, zlib.error) as error:  # an answer cut short on the way
                raise NetworkError(f"the answer did not inflate: {error}") from error
        elif encoding != "identity":
            raise NetworkError(f"the server answered in an encoding not asked for: {encoding}")
        return _decode(raw)

    def send(self, method: str, path: str, *, data: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        raise NotImplementedError

    def exchange(self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None,
                 token: str | None = None) -> tuple[int, Any, dict[str, str]]:
        data, headers = self.outgoing(body)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        status, answer_headers, raw = self.send(method, _url(path, params), data=data, headers=headers)
        answer_headers = {k.title(): v for k, v in answer_headers.items()}
        return status, self.incoming(raw, answer_headers.get("Content-Encoding")), answer_headers

    def request(self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None,
                token: str | None = None) -> tuple[int, Any]:
        status, body, _headers = self.exchange(method, path, body=body, params=params, token=token)
        return status, body


class HttpTransport(Wire):
    """Real HTTP; compressing unless ``compress`` is false."""

    def __init__(self, base_url: str, timeout: float = 30, *, compress: bool = True) -> None:
        super().__init__(compress)
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def send(self, method: str, path: str, *, data: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        url = path if "://" in path else self.base_url + path
        req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as response:
                return response.status, dict(response.headers.items()), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers.items()), error.read()
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as error:
            raise NetworkError(str(error)) from error


class WSGITransport(Wire):
    """Calls a WSGI application directly, no sockets; ``drop`` may discard answers to simulate
    loss. Plain bodies unless ``compress``."""

    def __init__(self, app: Any, drop: Callable[[str, str], bool] | None = None, *, compress: bool = False) -> None:
        from werkzeug.test import Client

        super().__init__(compress)
        self.client = Client(app)
        self.drop = drop

    def send(self, method: str, path: str, *, data: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        if "://" in path:  # a Location the app answered with: keep its path and query
            parts = urllib.parse.urlsplit(path)
            path = parts.path + ("?" + parts.query if parts.query else "")
        response = self.client.open(path, method=method, data=data, headers=headers or {})
        if self.drop is not None and self.drop(method, path.split("?")[0]):
            raise NetworkError("the response was lost")
        return response.status_code, dict(response.headers.items()), response.get_data()


def _decode(raw: bytes) -> Any:
    return json.loads(raw) if raw else None
