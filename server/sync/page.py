"""Reading the feed one page at a time: the hot loop of every sync.

A first sync of a large scope is a hundred pages or more, so a page must cost little more
than the database's own reading: one prepared statement per shape of scope, rows fetched
at once as plain tuples, and the stored payloads copied into the response as UTF-8 bytes,
never decoded, parsed or re-encoded on the way.
"""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from server.sync.models import SyncRow
from server.sync.scope import Scope

#: Up to this many scope keys, a page reads each key's index range and merges them; beyond
#: it, one walk along the sequence index, skipping rows of other keys, is cheaper.
FEW_KEYS = 16


class _utf8(FunctionElement[bytes]):
    """A text column as its UTF-8 bytes, so the driver hands them over without decoding."""

    type = sa.LargeBinary()
    name = "utf8"
    inherit_cache = True


@compiles(_utf8, "sqlite")
def _utf8_sqlite(element: _utf8, compiler: Any, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS BLOB)"


@compiles(_utf8, "postgresql")
def _utf8_postgresql(element: _utf8, compiler: Any, **kw: Any) -> str:
    # Not CAST(... AS bytea), which would read backslashes in the JSON as escapes.
    return f"convert_to({compiler.process(element.clauses, **kw)}, 'UTF8')"


#: A page row: (entity, entity_id, seq, deleted, payload), the text columns as UTF-8 bytes.
_COLUMNS = (_utf8(SyncRow.entity), _utf8(SyncRow.entity_id), SyncRow.seq, SyncRow.deleted, _utf8(SyncRow.payload))
Row = tuple[bytes, bytes, int, bool, bytes]


@functools.lru_cache(maxsize=256)
def _page_query(campaigns: int, keys: int, wide: bool, upto: bool, live_only: bool,
                merges_ranges: bool) -> sa.Select[Any]:
    """The page query for one shape of scope, with bound parameters ``c0``... (campaigns) and
    ``k0``... (keys), so each shape is built and compiled once.

    A narrow scope reads each key's index range; a ``wide`` one walks the sequence index.
    Several ranges are merged by sequence. PostgreSQL merges ranges already in order (a
    Merge Append), so whole rows are read once; SQLite sorts each range before merging, so
    there the sequences of the page are chosen first, from the indexes alone where it can,
    and only those rows are read (sorting the ranges' payloads cost more than the reading).
    """
    def bounded(condition: sa.ColumnElement[bool], *columns: Any) -> sa.Select[Any]:
        stmt = sa.select(*columns).where(condition, SyncRow.seq > sa.bindparam("after"))
        if upto:
            stmt = stmt.where(SyncRow.seq <= sa.bindparam("upto"))
        if live_only:
            stmt = stmt.where(SyncRow.deleted.is_(False))
        return stmt.order_by(SyncRow.seq).limit(sa.bindparam("limit"))

    key_params = [sa.bindparam(f"k{i}") for i in range(keys)]
    conditions: list[sa.ColumnElement[bool]] = []
    if campaigns:
        conditions.append(SyncRow.campaign_id.in_([sa.bindparam(f"c{i}") for i in range(campaigns)]))
    if wide:
        # `|| ''` keeps the planner off the scope_key index, so it walks the sequence index.
        conditions.append(SyncRow.scope_key.concat("").in_(key_params))
    else:
        conditions += [SyncRow.scope_key == key for key in key_params]
    if len(conditions) == 1:
        return bounded(conditions[0], *_COLUMNS)
    if merges_ranges:
        rows = sa.union_all(*[bounded(c, *_COLUMNS).subquery().select() for c in conditions]).subquery()
        return sa.select(rows).order_by(rows.c.seq).limit(sa.bindparam("limit"))
    ranges = sa.union_all(*[bounded(c, SyncRow.seq).subquery().select() for c in conditions]).subquery()
    chosen = sa.select(ranges.c.seq).order_by(ranges.c.seq).limit(sa.bindparam("limit"))
    return sa.select(*_COLUMNS).where(SyncRow.seq.in_(chosen)).order_by(SyncRow.seq)


@functools.lru_cache(maxsize=256)
def _compiled(dialect: sa.Dialect, query: sa.Select[Any]) -> Any:
    return query.compile(dialect=dialect)


def feed_rows(session: Session, scope: Scope, *, after: int, limit: int, upto: int | None = None,
              live_only: bool = False) -> list[Row]:
    """The next ``limit`` feed rows of ``scope`` after sequence ``after``, in sequence order.

    A narrow scope (a liaison's unit) is a few index ranges, merged; a wide one (a team's
    units) is a walk along the sequence that stops after ``limit`` matches; supervisors read
    by campaign. Each costs the same deep in a large feed as near its start.
    """
    keys, campaigns = sorted(scope.keys), sorted(scope.campaigns)
    if not keys and not campaigns:
        return []
    params: dict[str, Any] = {"after": after, "limit": limit, "upto": upto}
    params.update((f"k{i}", key) for i, key in enumerate(keys))
    params.update((f"c{i}", campaign) for i, campaign in enumerate(campaigns))
    connection = session.connection()
    postgresql = connection.dialect.name == "postgresql"
    query = _page_query(len(campaigns), len(keys), len(keys) > FEW_KEYS, upto is not None, live_only, postgresql)
    compiled = _compiled(connection.dialect, query)
    values = compiled.construct_params(params)
    if postgresql:
        return _fetch_postgresql(connection, compiled.string, values)
    # The driver's own cursor, in the session's transaction: result rows stay plain tuples,
    # which for a thousand rows a page saves about as much as the database spends reading them.
    cursor = connection.connection.cursor()
    try:
        cursor.execute(compiled.string, [values[name] for name in compiled.positiontup])
        return cursor.fetchall()
    finally:
        cursor.close()


def _fetch_postgresql(connection: sa.Connection, statement: str, values: dict[str, Any]) -> list[Row]:
    """The rows of a page through psycopg's own cursor, planned for this page's values.

    psycopg prepares a statement run five times on a connection, and PostgreSQL then plans it
    once for any values: that generic plan cannot tell a busy key from an empty one and walks
    the whole sequence index for each key of the scope (25-30 ms a page of 1000 instead of 4,
    and growing with the feed). Results come in binary, so the payload bytes arrive as they
    are rather than as hex text to decode.
    """
    cursor = connection.connection.cursor(binary=True)
    try:
        cursor.execute(statement, values, prepare=False)  # type: ignore[call-arg]
        return cursor.fetchall()
    finally:
        cursor.close()


#: A feed row as a change: an upsert carries the stored payload as it is.
_UPSERT = b'{"entity":"%s","id":"%s","op":"upsert","seq":%d,"data":%s}'
_TOMBSTONE = b'{"entity":"%s","id":"%s","op":"delete","seq":%d,"data":null,"reason":"%s"}'


def changes(rows: list[Row]) -> list[bytes]:
    """Each row as its change: the upsert of a live row, the tombstone of a deleted one.

    One format per row and no call: a function per row would cost half as much again.
    """
    return [_TOMBSTONE % (e, i, s, b"deleted") if d else _UPSERT % (e, i, s, p) for e, i, s, d, p in rows]


def tombstones(rows: list[Row], reason: bytes) -> list[bytes]:
    """Each row, live or not, as a tombstone for ``reason``."""
    return [_TOMBSTONE % (e, i, s, reason) for e, i, s, _d, _p in rows]
