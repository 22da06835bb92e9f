"""Keyset paging over any sort: the page token carries the last row's sort values, so a page is
as cheap at row 90,000 as at row 0 and rows synced in meanwhile neither repeat nor vanish.

A sort is a tuple of :class:`Key` ending in a unique column (the id); the token is opaque to
clients (base64 of the values as JSON) and a token that does not decode is a 422.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any, Sequence

import sqlalchemy as sa

from server.errors import ValidationFailed


@dataclass(frozen=True)
class Key:
    column: sa.ColumnElement[Any]
    #: How the value travels in the token: "datetime", "int" or "uuid".
    kind: str
    descending: bool = False

    def ordering(self) -> sa.ColumnElement[Any]:
        return self.column.desc() if self.descending else self.column.asc()


_DECODE = {"datetime": dt.datetime.fromisoformat, "int": int, "uuid": uuid.UUID}


def token(keys: Sequence[Key], values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, dt.datetime) else str(v) if isinstance(v, uuid.UUID) else v
             for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def _values(keys: Sequence[Key], text: str) -> list[Any]:
    try:
        plain = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        if not isinstance(plain, list) or len(plain) != len(keys):
            raise ValueError(text)
        return [_DECODE[key.kind](value) for key, value in zip(keys, plain)]
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed("Not a page token from this list (or from another sort).",
                               errors=[{"field": "query.after", "message": "not a next_after value"}]) from None


def after(keys: Sequence[Key], text: str) -> sa.ColumnElement[bool]:
    """The rows that come after the token's row in the sort ``keys``."""
    values = _values(keys, text)
    branches = []
    for i, key in enumerate(keys):
        ties = [k.column == v for k, v in zip(keys[:i], values[:i])]
        beyond = key.column < values[i] if key.descending else key.column > values[i]
        branches.append(sa.and_(*ties, beyond))
    return sa.or_(*branches)


def page(rows: list[Any], limit: int, keys: Sequence[Key], values_of: Any) -> tuple[list[Any], str | None]:
    """Cut the limit+1 rows read to a page; the token of its last row if more follow."""
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, token(keys, values_of(rows[-1])) if more else None
