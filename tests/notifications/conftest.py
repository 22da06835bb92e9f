"""Real local servers for the notification channels: an SMTP server (aiosmtpd) and an HTTP
server that answers as a test scripts it, each on a free port and stopped after the test."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest
from aiosmtpd.controller import Controller
from flask import Flask

from server.auth.models import Role
from tests import factories
from tests.factories import PASSWORD

WEBHOOK_SECRET = "test-webhook-secret-0123456789"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        self.envelopes.append(envelope)
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp(app: Flask) -> Iterator[_Inbox]:
    """A real SMTP server; the app's email channel points at it."""
    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False, SMTP_TIMEOUT=5,
                      SMTP_FROM="巡查系统 <xuncha@example.cn>")
    yield inbox
    controller.stop()


@dataclass
class Receiver:
    """What the webhook server got, and what it answers next (the last status repeats)."""

    statuses: list[int]
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def answer(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r["body"]) for r in self.requests]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if receiver.delay:
                time.sleep(receiver.delay)
            status = receiver.answer()
            with receiver.lock:
                receiver.requests.append({"headers": dict(self.headers), "body": body, "status": status,
                                          "path": self.path})
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def webhook(app: Flask) -> Iterator[Any]:
    """``webhook(500, 500, 200)``: start a receiver answering those statuses; the app posts to it."""
    servers: list[ThreadingHTTPServer] = []

    def start(*statuses: int, delay: float = 0.0) -> Receiver:
        receiver = Receiver(list(statuses) or [200], delay=delay)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/xuncha"
        app.config.update(WEBHOOK_URL=receiver.url, WEBHOOK_SECRET=WEBHOOK_SECRET, WEBHOOK_TIMEOUT=5)
        return receiver

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def people(session, hasher, world):  # type: ignore[no-untyped-def]
    """The world's users, alice and sup with email addresses, and an admin."""
    world.users["alice"].email = "alice@example.cn"
    world.users["alice"].display_name = "张敏"
    world.users["sup"].email = "sup@example.cn"
    admin = factories.user(session, hasher, Role.ADMIN, username="root")
    session.commit()
    return {**world.users, "admin": admin}


def login(client, username: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/auth/login", json={
        "username": username, "password": PASSWORD, "device": {"id": str(uuid.uuid4()), "platform": "test"}})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}
