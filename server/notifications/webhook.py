"""Notices by webhook: an HTTP POST of JSON, signed so the receiver knows it came from Xuncha.

The signature is ``sha256=`` and the hex HMAC-SHA256, keyed with XUNCHA_WEBHOOK_SECRET, of
``f"{timestamp}.{body}"``, where ``timestamp`` is the ``X-Xuncha-Timestamp`` header (Unix
seconds) and ``body`` the exact bytes of the request body. Signing the time as well lets a
receiver refuse a captured request replayed later (:func:`verify_signature`). Any 2xx answer
means delivered; anything else, a redirect or a timeout is retried later, so receivers should
drop a message whose ``X-Xuncha-Message`` id they have already handled.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from server.notifications.channels import Message, SendFailed

TIMESTAMP_HEADER = "X-Xuncha-Timestamp"
SIGNATURE_HEADER = "X-Xuncha-Signature"
MESSAGE_HEADER = "X-Xuncha-Message"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return "sha256=" + digest


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str, *,
                     tolerance_seconds: int = 300, now: float | None = None) -> bool:
    """For receivers: true if ``signature`` is Xuncha's for this body and time, and the time is
    within ``tolerance_seconds`` of ``now`` (default: the current time)."""
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def payload(message: Message) -> dict[str, Any]:
    recipient = message.recipient
    return {
        "id": message.id,
        "digest": message.digest,
        "recipient": {"user_id": recipient.user_id, "username": recipient.username,
                      "display_name": recipient.display_name},
        "title": message.subject,
        "text": message.text,
        "notifications": [
            {"id": item.id, "kind": item.kind, "title": item.title, "body": item.body, "data": item.data,
             "created_at": item.created_at.isoformat()}
            for item in message.items],
    }


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # Following a redirect would re-send the notice without its body (urllib turns POST into
    # GET): a moved receiver must be configured, not guessed.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass(frozen=True)
class WebhookChannel:
    url: str
    secret: str
    timeout: float = 10

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> WebhookChannel:
        return cls(url=config["WEBHOOK_URL"], secret=config["WEBHOOK_SECRET"], timeout=config["WEBHOOK_TIMEOUT"])

    def send(self, messages: Sequence[Message]) -> list[SendFailed | None]:
        opener = urllib.request.build_opener(_NoRedirects)
        return [self._post(opener, message) for message in messages]

    def _post(self, opener: urllib.request.OpenerDirector, message: Message) -> SendFailed | None:
        body = json.dumps(payload(message), ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "xuncha-notifications",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self.secret, timestamp, body),
            MESSAGE_HEADER: message.id,
        })
        try:
            with opener.open(request, timeout=self.timeout) as response:
                response.read()
                status = response.status
        except urllib.error.HTTPError as exc:
            exc.close()
            return SendFailed(f"webhook answered HTTP {exc.code}")
        except (OSError, ValueError) as exc:  # refused, timed out, DNS, TLS; URLError is an OSError
            return SendFailed(f"webhook unreachable: {exc}")
        if not 200 <= status < 300:
            return SendFailed(f"webhook answered HTTP {status}")
        return None
