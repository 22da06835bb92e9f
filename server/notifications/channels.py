"""The ways a notice leaves the server, behind one small interface.

A channel takes a batch of messages and says, per message, whether it went out; it never
touches the database, so the delivery job holds no transaction while a mail server or a
webhook takes its time. Which channels exist is configuration (:func:`configured_channels`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Mapping, Protocol, Sequence

from server.notifications.models import DeliveryChannel


@dataclass(frozen=True)
class Recipient:
    user_id: int
    username: str
    display_name: str
    email: str


@dataclass(frozen=True)
class Item:
    """One notification inside a message."""

    id: int
    kind: str
    title: str
    body: str
    data: dict[str, Any]
    created_at: dt.datetime


@dataclass(frozen=True)
class Message:
    #: Unique per message; receivers can use it to drop a retry they already handled.
    id: str
    recipient: Recipient
    subject: str
    text: str
    items: tuple[Item, ...]

    @property
    def digest(self) -> bool:
        return len(self.items) > 1


class SendFailed(Exception):
    """This message did not go out; the text says why and is kept on the delivery."""


class Channel(Protocol):
    def send(self, messages: Sequence[Message]) -> list[SendFailed | None]:
        """Send each message; per message ``None`` when it went out, else why it did not."""


def configured_channels(config: Mapping[str, Any]) -> dict[DeliveryChannel, Channel]:
    """The channels turned on by the settings (an empty SMTP_HOST or WEBHOOK_URL turns one off)."""
    from server.notifications.mail import MailChannel
    from server.notifications.webhook import WebhookChannel

    channels: dict[DeliveryChannel, Channel] = {}
    if config["SMTP_HOST"]:
        channels[DeliveryChannel.EMAIL] = MailChannel.from_config(config)
    if config["WEBHOOK_URL"]:
        channels[DeliveryChannel.WEBHOOK] = WebhookChannel.from_config(config)
    return channels
