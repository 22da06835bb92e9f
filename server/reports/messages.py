"""What the publication services say about a circular's text or a bulletin's period they refuse,
each sentence under a stable key: a :class:`~server.messages.Said`, English for the command line
and the API, which the web console says in Chinese (``setup.say.<key>`` in server/web/text.py)."""

from __future__ import annotations

from typing import Any, Mapping

from server.messages import Said

ENGLISH: Mapping[str, str] = {
    "circular_too_long": "at most {limit} characters",
    "bulletin_too_long": "a bulletin covers at most {days} days",
}


def say(key: str, **values: Any) -> Said:
    return Said(key, ENGLISH[key], **values)
