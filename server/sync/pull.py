"""Pull: the changes a device may see since its cursor, in pages, in feed order.

The cursor is opaque to the device and signed by the server. It holds the feed sequence the
device has reached and the scope it had then. When the user's scope has changed since,
the next pulls first deliver tombstones for the keys lost and the rows of the keys gained
(up to the cursor's sequence; later ones come in the ordinary way), then carry on.

A page is built from the stored payloads as bytes, without decoding them
(:mod:`server.sync.page`), so a first sync of a large scope streams at the speed of the
database, in constant memory per page.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import uuid
from typing import Any

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from server.attachments.services import missing_photos
from server.auth.services import Caller
from server.clock import Clock
from server.db import upsert
from server.errors import AppError
from server.sync.models import DeviceSyncState, ScopeSnapshot, SyncCounter, SyncRow
from server.sync.page import changes, feed_rows, tombstones
from server.sync.push import check_protocol
from server.sync.scope import Scope, scope_of
from sync_protocol.problems import ProblemCode
from sync_protocol.version import PROTOCOL_VERSION


class CursorInvalid(AppError):
    status = 400
    code = ProblemCode.CURSOR_INVALID
    title = "This cursor was not issued to this device"


class CursorExpired(AppError):
    status = 410
    code = ProblemCode.CURSOR_EXPIRED
    title = "The cursor is too old: start over"


REVOKE, BACKFILL = "revoke", "backfill"


@functools.lru_cache(maxsize=4)
def _signer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="xuncha.sync.cursor")


def decode_cursor(secret: str, device_id: uuid.UUID, raw: str) -> dict[str, Any]:
    if not raw:
        return {"s": 0, "k": 0}
    try:
        cursor = _signer(secret).loads(raw)
    except BadSignature:
        raise CursorInvalid("Pull again with the cursor the last pull returned, or with none to start over.") from None
    if cursor.get("d") != str(device_id):
        raise CursorInvalid("This cursor belongs to another device; start over with no cursor.")
    return cursor


def encode_cursor(secret: str, device_id: uuid.UUID, cursor: dict[str, Any]) -> str:
    return _signer(secret).dumps({**cursor, "d": str(device_id)})


_SNAPSHOT_ID = sa.select(ScopeSnapshot.id).where(ScopeSnapshot.device_id == sa.bindparam("device_id"),
                                                 ScopeSnapshot.keys_hash == sa.bindparam("keys_hash"))
#: What every page checks before reading: the tombstone horizon and the id of the stored
#: snapshot of the device's scope (none yet: a new scope), in one statement.
_BEARINGS = sa.select(sa.select(SyncCounter.horizon).where(SyncCounter.id == 1).scalar_subquery(),
                      _SNAPSHOT_ID.scalar_subquery())


def _store_snapshot(session: Session, clock: Clock, device_id: uuid.UUID, keys: list[str], digest: str) -> int:
    """The id of a new snapshot of this scope, written in its own transaction, write first (on
    SQLite a transaction that has read cannot start writing once another has committed)."""
    session.commit()
    session.execute(upsert(session, ScopeSnapshot).values(device_id=device_id, keys_hash=digest, keys=keys,
                                                          created_at=clock.now()).on_conflict_do_nothing())
    session.commit()
    return session.connection().execute(_SNAPSHOT_ID, {"device_id": device_id, "keys_hash": digest}).scalar_one()


def _note_pull(session: Session, clock: Clock, device_id: uuid.UUID) -> None:
    """When the device last caught up, once per sync rather than once per page."""
    session.commit()
    now = clock.now()
    session.execute(upsert(session, DeviceSyncState).values(device_id=device_id, last_seq=0, telemetry={},
                                                           last_pull_at=now)
                    .on_conflict_do_update(index_elements=["device_id"], set_={"last_pull_at": now}))


def pull(session: Session, clock: Clock, caller: Caller, *, protocol: int, cursor: str, limit: int,
         secret: str) -> bytes:
    """The response body, as UTF-8 JSON."""
    check_protocol(protocol)
    device_id = caller.device_id
    position = decode_cursor(secret, device_id, cursor)
    scope = scope_of(session, caller)
    keys = scope.as_list()
    digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()
    horizon, current = session.connection().execute(_BEARINGS, {"device_id": device_id, "keys_hash": digest}).one()
    if 0 < position["s"] < (horizon or 0):
        raise CursorExpired("This device has not synced for longer than deletions are kept. Upload its "
                            "outbox, drop the pulled data and pull again with no cursor.")
    if current is None:
        current = _store_snapshot(session, clock, device_id, keys, digest)

    if "p" not in position and position["k"] != current:
        position = _start_scope_change(position, current)
    in_phase = "p" in position
    if in_phase:
        rows, position = _phase_page(session, position, limit)
    else:
        rows, position = _incremental_page(session, scope, position, limit)

    # After a scope-change page there is always more: at least the ordinary changes that follow.
    has_more = len(rows) >= limit or in_phase
    # The photos to upload are named on the last page, once the device has caught up.
    missing = [] if has_more else missing_photos(session, device_id)
    if not has_more:
        _note_pull(session, clock, device_id)
    tail = "".join(['],"cursor":', json.dumps(encode_cursor(secret, device_id, position)),
                    ',"has_more":', "true" if has_more else "false",
                    ',"missing_photos":', json.dumps(missing),
                    ',"server_time":', json.dumps(clock.now().isoformat()), "}"])
    return b"".join([b'{"protocol":%d,"changes":[' % PROTOCOL_VERSION, b",".join(rows), tail.encode()])


def _start_scope_change(position: dict[str, Any], current: int) -> dict[str, Any]:
    if position["s"] == 0:
        return {"s": 0, "k": current}  # a first sync: everything comes in the ordinary way
    return {"s": position["s"], "k": current, "f": position["k"], "p": REVOKE, "a": 0}


def _keys_of(session: Session, snapshot_id: int) -> Scope:
    found = session.get(ScopeSnapshot, snapshot_id)
    return Scope.from_list(found.keys if found else [])


def _phase_page(session: Session, position: dict[str, Any], limit: int) -> tuple[list[bytes], dict[str, Any]]:
    old, new = _keys_of(session, position["f"]), _keys_of(session, position["k"])
    if position["p"] == REVOKE:
        lost = Scope(campaigns=old.campaigns - new.campaigns, keys=old.keys - new.keys)
        found = feed_rows(session, lost, after=position["a"], limit=limit, live_only=True)
        rows = tombstones(found, b"out_of_scope")
        if len(found) < limit:
            return rows, {**position, "p": BACKFILL, "a": 0}
        return rows, {**position, "a": found[-1][2]}
    gained = Scope(campaigns=new.campaigns - old.campaigns, keys=new.keys - old.keys)
    found = feed_rows(session, gained, after=position["a"], upto=position["s"], limit=limit, live_only=True)
    rows = changes(found)  # live rows only: all upserts
    if len(found) < limit:
        return rows, {"s": position["s"], "k": position["k"]}
    return rows, {**position, "a": found[-1][2]}


def _incremental_page(session: Session, scope: Scope, position: dict[str, Any],
                      limit: int) -> tuple[list[bytes], dict[str, Any]]:
    # A new device has nothing to delete: its first sync skips the tombstones.
    found = feed_rows(session, scope, after=position["s"], limit=limit, live_only=position["s"] == 0)
    rows = changes(found)
    seq = found[-1][2] if found else position["s"]
    return rows, {"s": seq, "k": position["k"]}


def purge_tombstones(session: Session, clock: Clock, keep: dt.timedelta) -> int:
    """Forget deletions older than ``keep``; cursors from before them must start over."""
    horizon_at = clock.now() - keep
    newest = session.scalar(sa.select(sa.func.max(SyncRow.seq)).where(
        SyncRow.deleted.is_(True), SyncRow.changed_at < horizon_at))
    if newest is None:
        return 0
    deleted = session.execute(sa.delete(SyncRow).where(SyncRow.deleted.is_(True), SyncRow.seq <= newest)).rowcount
    session.execute(sa.update(SyncCounter).where(SyncCounter.id == 1, SyncCounter.horizon < newest)
                    .values(horizon=newest))
    return deleted
