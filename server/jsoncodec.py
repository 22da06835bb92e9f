"""JSON as the server writes it into the database and onto the wire: compact, UTF-8, fast.

orjson, because the scheduler's sweep and a sync push encode tens of thousands of records in
one transaction, where the standard library's encoder was a tenth of the work. Its output is
what ``json.dumps(..., ensure_ascii=False, separators=(",", ":"))`` gives, and it also writes
UUIDs, enums, dates and aware datetimes (ISO 8601 with their offset) without help.

Request bodies are read by :func:`loads_request`, which refuses, besides what is not JSON,
what the server will not take although it parses (:class:`Refused`).
"""

from __future__ import annotations

import decimal
from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS  # the standard library turns int keys into strings too


def _default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> str:
    return orjson.dumps(value, default=_default, option=_OPTIONS).decode()


def loads(text: str | bytes) -> Any:
    return orjson.loads(text)


class Refused(ValueError):
    """JSON the server will not take although it parses; ``path`` says where (dotted, as in errors)."""

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class TooDeep(Refused):
    pass


class NulInString(Refused):
    pass


def loads_request(data: str | bytes, max_depth: int) -> Any:
    """A request body: orjson refuses lone surrogates, NaN and numbers beyond a double, and nests
    at most 1024 deep without recursing; within that, the configured ``max_depth`` is enforced
    here, before any schema recurses into the value or the database stores it, and so is NUL,
    which no text column takes (PostgreSQL's jsonb and text refuse it outright)."""
    value = orjson.loads(data)
    look_for_nul = (b"\\u0000" in data) if isinstance(data, bytes) else ("\\u0000" in data)
    if not isinstance(value, (dict, list)):
        if look_for_nul and isinstance(value, str) and "\x00" in value:
            raise NulInString("must not contain the NUL character")
        return value
    stack: list[tuple[Any, int, tuple[str, ...]]] = [(value, 1, ())]
    while stack:
        node, depth, path = stack.pop()
        if depth > max_depth:
            raise TooDeep(f"The body nests deeper than {max_depth} levels.", ".".join(path) or None)
        for key, child in (node.items() if isinstance(node, dict) else enumerate(node)):
            if look_for_nul and (isinstance(key, str) and "\x00" in key
                                 or isinstance(child, str) and "\x00" in child):
                where = ".".join(path + (str(key),)).replace("\x00", "\\u0000")  # named, never echoed
                raise NulInString("must not contain the NUL character", where)
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1, path + (str(key),)))
    return value
