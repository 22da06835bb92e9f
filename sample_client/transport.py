"""How the client reaches a server: real HTTP, or any WSGI app in-process (for tests).

A transport sends one request and returns ``(status, body)``; it raises
:class:`~sample_client.errors.NetworkError` when no answer came back, which is what a
lost response looks like to a phone.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable, Protocol

from sample_client.errors import NetworkError


class Transport(Protocol):
    def request(self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None,
                token: str | None = None) -> tuple[int, Any]: ...


def _url(path: str, params: dict[str, Any] | None) -> str:
    query = {k: v for k, v in (params or {}).items() if v is not None}
    return path + ("?" + urllib.parse.urlencode(query) if query else "")


class HttpTransport:
    def __init__(self, base_url: str, timeout: float = 30) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def request(self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None,
                token: str | None = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base_url + _url(path, params), data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as response:
                return response.status, _decode(response.read())
        except urllib.error.HTTPError as error:
            return error.code, _decode(error.read())
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            raise NetworkError(str(error)) from error


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
