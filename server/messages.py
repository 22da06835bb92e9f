"""Sentences the services say under stable keys.

A :class:`Said` is the English text the command line prints and the API returns (a ``str``, so
it goes wherever text goes and compares as the text) which remembers its key and values, so the
web console can say the same to a clerk in Chinese (``setup.say.<key>`` in server/web/text.py).
Each domain keeps its sentences in a catalogue of its own (server/imports/messages.py,
server/assessment/messages.py); their keys differ, and a test checks that every key has its
translation with the same values.
"""

from __future__ import annotations

from typing import Any, Mapping


class Said(str):
    """An English sentence, with the key and values it was made from."""

    key: str
    values: Mapping[str, Any]

    def __new__(cls, key: str, english: str, **values: Any) -> Said:
        said = super().__new__(cls, english.format(**values))
        said.key = key
        said.values = values
        return said
