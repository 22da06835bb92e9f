"""Pull: the changes a device may see since its cursor, in pages, in feed order.

The cursor is opaque to the device and signed by the server. It holds the feed sequence the
device has reached and the scope it had then. When the user's scope has changed since,
the next pulls first deliver tombstones for the keys lost and the rows of the keys gained
(up to the cursor's sequence; later ones come in the ordinary way), then carry on.

A page is built from the stored payloads as text, without decoding them, so a first sync
of a large scope streams at the speed of the database, in constant memory per page.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from typing import Any

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from server.attachments.services import missing_photos
from server.auth.models import User
from server.clock import Clock
from server.db import upsert
from server.errors import AppError
from server.sync.models import DeviceSyncState, ScopeSnapshot, SyncCounter, SyncRow
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


def _snapshot(session: Session, clock: Clock, device_id: uuid.UUID, scope: Scope) -> ScopeSnapshot:
    """The stored snapshot of this scope; a new one is written in its own transaction, write first
    (on SQLite a transaction that has read cannot start writing once another has committed)."""
    keys = scope.as_list()
    digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()
    query = sa.select(ScopeSnapshot).where(ScopeSnapshot.device_id == device_id, ScopeSnapshot.keys_hash == digest)
    found = session.scalars(query).one_or_none()
    if found is not None:
        return found
    session.commit()
    session.execute(upsert(session, ScopeSnapshot).values(device_id=device_id, keys_hash=digest, keys=keys,
                                                          created_at=clock.now()).on_conflict_do_nothing())
    session.commit()
    return session.scalars(query).one()


def _note_pull(session: Session, clock: Clock, device_id: uuid.UUID) -> None:
    """When the device last caught up, once per sync rather than once per page."""
    session.commit()
    now = clock.now()
    session.execute(upsert(session, DeviceSyncState).values(device_id=device_id, last_seq=0, telemetry={},
                                                           last_pull_at=now)
                    .on_conflict_do_update(index_elements=["device_id"], set_={"last_pull_at": now}))


#: Up to this many scope keys, a page reads each key's index range and merges them; beyond
#: it, one walk along the sequence index, skipping rows of other keys, is cheaper.
FEW_KEYS = 16

_COLUMNS = (SyncRow.entity, SyncRow.entity_id, SyncRow.seq, SyncRow.deleted, SyncRow.payload)


def _feed_rows(session: Session, scope: Scope, *, after: int, limit: int, upto: int | None = None,
               live_only: bool = False) -> list[Any]:
    """The next ``limit`` feed rows of ``scope`` after sequence ``after``, in sequence order.

    The plan matters more than anything else here: a narrow scope (a liaison's unit) is a few
    index ranges, merged; a wide one (a team's units) is a walk along the sequence that
    stops after ``limit`` matches. Either way a page costs the same deep in a large feed.
    """
    def bounded(stmt: sa.Select[Any]) -> sa.Select[Any]:
        stmt = stmt.where(SyncRow.seq > after)
        if upto is not None:
            stmt = stmt.where(SyncRow.seq <= upto)
        if live_only:
            stmt = stmt.where(SyncRow.deleted.is_(False))
        return stmt.order_by(SyncRow.seq).limit(limit)

    parts = []
    if scope.campaigns:
        parts.append(bounded(sa.select(*_COLUMNS).where(SyncRow.campaign_id.in_(sorted(scope.campaigns)))))
    if 0 < len(scope.keys) <= FEW_KEYS:
        parts += [bounded(sa.select(*_COLUMNS).where(SyncRow.scope_key == key)) for key in sorted(scope.keys)]
    elif scope.keys:
        # `|| ''` keeps the planner off the scope_key index, so it walks the sequence index.
        parts.append(bounded(sa.select(*_COLUMNS).where(
            SyncRow.scope_key.concat("").in_(sorted(scope.keys)))))
    if not parts:
        return []
    # Core, not the ORM: plain tuples, about three times cheaper per row.
    connection = session.connection()
    if len(parts) == 1:
        return list(connection.execute(parts[0]))
    merged = sa.union_all(*[p.subquery().select() for p in parts]).subquery()
    return list(connection.execute(sa.select(merged).order_by(merged.c.seq).limit(limit)))


def pull(session: Session, clock: Clock, user: User, device_id: uuid.UUID, *, protocol: int, cursor: str,
         limit: int, secret: str) -> str:
    """The response body, as JSON text."""
    check_protocol(protocol)
    position = decode_cursor(secret, device_id, cursor)
    horizon = session.scalar(sa.select(SyncCounter.horizon).where(SyncCounter.id == 1)) or 0
    if 0 < position["s"] < horizon:
        raise CursorExpired("This device has not synced for longer than deletions are kept. Upload its "
                            "outbox, drop the pulled data and pull again with no cursor.")
    current = _snapshot(session, clock, device_id, scope_of(session, user))

    if "p" not in position and position["k"] != current.id:
        position = _start_scope_change(session, position, current)
    in_phase = "p" in position
    if in_phase:
        rows, position = _phase_page(session, position, limit)
    else:
        rows, position = _incremental_page(session, Scope.from_list(current.keys), position, limit)

    # After a scope-change page there is always more: at least the ordinary changes that follow.
    has_more = len(rows) >= limit or in_phase
    # The photos to upload are named on the last page, once the device has caught up.
    missing = [] if has_more else missing_photos(session, device_id)
    if not has_more:
        _note_pull(session, clock, device_id)
    return "".join(['{"protocol":', str(PROTOCOL_VERSION), ',"changes":[', ",".join(rows), "]",
                    ',"cursor":', json.dumps(encode_cursor(secret, device_id, position)),
                    ',"has_more":', "true" if has_more else "false",
                    ',"missing_photos":', json.dumps(missing),
                    ',"server_time":', json.dumps(clock.now().isoformat()), "}"])


def _start_scope_change(session: Session, position: dict[str, Any], current: ScopeSnapshot) -> dict[str, Any]:
    if position["s"] == 0:
        return {"s": 0, "k": current.id}  # a first sync: everything comes in the ordinary way
    return {"s": position["s"], "k": current.id, "f": position["k"], "p": REVOKE, "a": 0}


def _keys_of(session: Session, snapshot_id: int) -> Scope:
    found = session.get(ScopeSnapshot, snapshot_id)
    return Scope.from_list(found.keys if found else [])


def _phase_page(session: Session, position: dict[str, Any], limit: int) -> tuple[list[str], dict[str, Any]]:
    old, new = _keys_of(session, position["f"]), _keys_of(session, position["k"])
    if position["p"] == REVOKE:
        lost = Scope(campaigns=old.campaigns - new.campaigns, keys=old.keys - new.keys)
        found = _feed_rows(session, lost, after=position["a"], limit=limit, live_only=True)
        rows = [_tombstone(e, i, s, "out_of_scope") for e, i, s, _d, _p in found]
        if len(found) < limit:
            return rows, {**position, "p": BACKFILL, "a": 0}
        return rows, {**position, "a": found[-1].seq}
    gained = Scope(campaigns=new.campaigns - old.campaigns, keys=new.keys - old.keys)
    found = _feed_rows(session, gained, after=position["a"], upto=position["s"], limit=limit, live_only=True)
    rows = [_upsert(e, i, s, p) for e, i, s, _d, p in found]
    if len(found) < limit:
        return rows, {"s": position["s"], "k": position["k"]}
    return rows, {**position, "a": found[-1].seq}


def _incremental_page(session: Session, scope: Scope, position: dict[str, Any],
                      limit: int) -> tuple[list[str], dict[str, Any]]:
    # A new device has nothing to delete: its first sync skips the tombstones.
    found = _feed_rows(session, scope, after=position["s"], limit=limit, live_only=position["s"] == 0)
    rows = [_tombstone(e, i, s, "deleted") if d else _upsert(e, i, s, p) for e, i, s, d, p in found]
    seq = found[-1].seq if found else position["s"]
    return rows, {"s": seq, "k": position["k"]}


def _upsert(entity: str, entity_id: str, seq: int, payload: str) -> str:
    return f'{{"entity":"{entity}","id":"{entity_id}","op":"upsert","seq":{seq},"data":{payload}}}'


def _tombstone(entity: str, entity_id: str, seq: int, reason: str) -> str:
    return f'{{"entity":"{entity}","id":"{entity_id}","op":"delete","seq":{seq},"data":null,"reason":"{reason}"}}'


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
