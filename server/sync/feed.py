"""Publishing every change of a synced record to the feed devices pull, whoever made it.

Services never call this: a session hook notices each synced object that was inserted,
changed or deleted in a flush, and writes the feed rows as the last step before the
commit, taking their sequences from :class:`SyncCounter` in commit order. A change made by
the API, a sync push, the scheduler or the CLI reaches devices the same way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, object_session

from server import jsoncodec
from server.db import among, model_of, upsert_rows
from server.sync.models import SyncCounter, SyncRow
from server.sync.scope import SECRET_ROUNDS

_PENDING = "xuncha.sync_pending"
_STAGED = "xuncha.sync_staged"
_READ = "xuncha.sync_read"


@dataclass(frozen=True)
class Published:
    """How one model appears in the feed."""

    entity: str
    #: The scope key of a record (see server.sync.scope), from the record and the session.
    scope_key: Callable[[Session, Any], str]
    campaign_id: Callable[[Session, Any], int]
    #: A record that still exists but must disappear from devices (a voided finding).
    gone: Callable[[Any], bool] = lambda obj: False
    #: Columns never sent to devices.
    private: frozenset[str] = frozenset()


REGISTRY: dict[type, Published] = {}


def publish(model: type, spec: Published) -> None:
    REGISTRY[model] = spec
    for name in ("after_insert", "after_update", "after_delete"):
        if not event.contains(model, name, _written):
            event.listen(model, name, _written)


#: Per model, its published columns in wire order, and those of them that hold datetimes.
_FIELDS: dict[type, tuple[tuple[str, ...], tuple[str, ...]]] = {}


def payload(obj: Any, spec: Published) -> str:
    """The record as devices receive it: the one place its wire form is made."""
    model = model_of(obj)
    if model not in _FIELDS:
        columns = [c for c in sorted(model.__table__.columns, key=lambda c: c.key) if c.key not in spec.private]
        _FIELDS[model] = (tuple(c.key for c in columns), tuple(c.key for c in columns if _holds_datetimes(c)))
    names, times = _FIELDS[model]
    # Loaded values are read from the instance's dict (the ORM's own storage for them), not
    # through its attribute machinery; an expired one is read through it, which loads it.
    held = obj.__dict__
    try:
        data = {name: held[name] for name in names}
    except KeyError:
        data = {name: held[name] if name in held else getattr(obj, name) for name in names}
    # The encoder writes ids, enums and dates itself; times are brought to UTC first, so an
    # instant has one spelling on the wire whichever zone computed it.
    for name in times:
        value = data[name]
        if value is not None and value.tzinfo is not None and value.tzinfo is not dt.timezone.utc:
            data[name] = value.astimezone(dt.timezone.utc)
    return jsoncodec.dumps(data)


def _holds_datetimes(column: sa.Column[Any]) -> bool:
    kind = column.type
    return isinstance(kind, sa.DateTime) or isinstance(getattr(kind, "impl", None), sa.DateTime)


@dataclass
class _Change:
    entity: str
    entity_id: str
    scope_key: str | None  # None: deleted everywhere
    campaign_id: int
    payload: str
    #: A deleted record's own scope key: where its tombstone goes if it never had a feed row
    #: (created and deleted in one transaction), so the delete is in the feed all the same.
    tombstone_key: str | None = None


def _written(_mapper: Any, _connection: Any, obj: Any) -> None:
    # Objects, not snapshots: what they hold at commit time is what devices must see, and an
    # object whose savepoint was rolled back has become transient or reverted by then.
    # Mapper events see only the rows a flush writes, however many objects the session holds.
    session = object_session(obj)
    if session is not None:
        session.info.setdefault(_PENDING, {})[id(obj)] = obj


def written_in_bulk(session: Session, records: list[Any]) -> None:
    """Publish records written with Core statements, which the mapper events never see.

    ``records`` are copies (:func:`server.db.unattached`) holding every column as written. At
    the commit they are published by the same rules and the same payload code as the ORM's;
    until then the publishing rules find them by id (:func:`bulk_record`) without asking the
    database.
    """
    staged: dict[tuple[type, Any], Any] = session.info.setdefault(_STAGED, {})
    for record in records:
        staged[model_of(record), record.id] = record


def read_in_bulk(session: Session, records: list[Any]) -> None:
    """Make records read with Core (copies made by :func:`server.db.unattached`) known to the
    publishing rules until the commit, without publishing them: the findings of a sweep's
    orders, whose scope the orders' feed rows follow. Unknown to the identity map, each would
    otherwise be read again."""
    read: dict[tuple[type, Any], Any] = session.info.setdefault(_READ, {})
    for record in records:
        read[model_of(record), record.id] = record


def bulk_record(session: Session, model: type, ident: Any) -> Any:
    """A record of this transaction written in bulk, or one read in bulk, or None.

    A copy written in bulk is the record as stored; a copy read in bulk gives way to the
    session's own instance, which may have been changed since.
    """
    key = (model, ident)
    written = session.info.get(_STAGED, {}).get(key)
    if written is not None:
        return written
    # The mapper's own key maker: sqlalchemy.orm.util.identity_key inspects the class first, and
    # the feed asks twice per order of a sweep.
    own = session.identity_map.get(model.__mapper__.identity_key_from_primary_key((ident,)))
    return own or session.info.get(_READ, {}).get(key)


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the feed is written once, when the whole transaction commits
    session.flush()
    pending: dict[int, Any] = session.info.pop(_PENDING, {})
    changes: dict[tuple[type, Any], _Change] = {}
    with session.no_autoflush:
        for key, obj in session.info.get(_STAGED, {}).items():
            changes[key] = _change(session, obj, deleted=False)
        for obj in pending.values():
            state = sa.inspect(obj)
            if state.transient or (state.detached and not state.was_deleted):
                continue  # created in a savepoint that was rolled back
            # Also written in bulk earlier in the transaction: the ORM's copy is the later one.
            changes[type(obj), obj.id] = _change(session, obj, deleted=state.deleted or state.was_deleted)
    session.info.pop(_STAGED, None)
    session.info.pop(_READ, None)
    session.info.pop(SECRET_ROUNDS, None)
    if changes:
        write(session, list(changes.values()))


def _change(session: Session, obj: Any, *, deleted: bool) -> _Change:
    spec = REGISTRY[model_of(obj)]
    gone = not deleted and spec.gone(obj)  # voided: the row is still there to say where it was
    return _Change(entity=spec.entity, entity_id=str(obj.id),
                   scope_key=None if deleted or gone else spec.scope_key(session, obj),
                   campaign_id=spec.campaign_id(session, obj),
                   payload="" if deleted or gone else payload(obj, spec),
                   tombstone_key=spec.scope_key(session, obj) if gone else None)


def _after_rollback(session: Session) -> None:
    if not session.in_transaction():
        session.info.pop(_PENDING, None)
        session.info.pop(_STAGED, None)
        session.info.pop(_READ, None)


def write(session: Session, changes: list[_Change]) -> None:
    """Write feed rows for ``changes``; the sequences are taken last, in commit order."""
    now = _now()
    by_entity: dict[str, list[str]] = {}
    for change in changes:
        by_entity.setdefault(change.entity, []).append(change.entity_id)
    existing: dict[tuple[str, str], list[str]] = {}
    published: set[tuple[str, str]] = set()  # records with any feed row, tombstones included
    for entity, ids in by_entity.items():
        rows = session.execute(sa.select(SyncRow.entity_id, SyncRow.scope_key, SyncRow.deleted).where(
            SyncRow.entity == entity, among(session, SyncRow.entity_id, ids)))
        for entity_id, key, deleted in rows:
            published.add((entity, entity_id))
            if not deleted:
                existing.setdefault((entity, entity_id), []).append(key)

    upserts: list[dict[str, Any]] = []
    for change in changes:
        old_keys = existing.get((change.entity, change.entity_id), [])
        if change.tombstone_key is not None and (change.entity, change.entity_id) not in published:
            old_keys = [change.tombstone_key]  # never published: its delete is, all the same (§8.4)
        for old_key in old_keys:
            if old_key != change.scope_key:  # moved out of that scope, or deleted: a tombstone there
                upserts.append({"entity": change.entity, "entity_id": change.entity_id, "scope_key": old_key,
                                "deleted": True, "payload": "", "campaign_id": change.campaign_id,
                                "changed_at": now})
        if change.scope_key is not None:
            upserts.append({"entity": change.entity, "entity_id": change.entity_id,
                            "scope_key": change.scope_key, "deleted": False, "payload": change.payload,
                            "campaign_id": change.campaign_id, "changed_at": now})
    if not upserts:
        return
    last = session.execute(sa.update(SyncCounter).where(SyncCounter.id == 1)
                           .values(value=SyncCounter.value + len(upserts))
                           .returning(SyncCounter.value)).scalar_one()
    for offset, row in enumerate(upserts):
        row["seq"] = last - len(upserts) + 1 + offset
    upsert_rows(session, SyncRow.__table__, upserts, key=["entity", "entity_id", "scope_key"],
                update=["seq", "deleted", "payload", "changed_at", "campaign_id"])


def _now() -> dt.datetime:
    # The app's clock when there is one (tests run time forward); tombstone ages are measured on it.
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app.extensions["xuncha.clock"].now()
    return dt.datetime.now(dt.timezone.utc)


def install() -> None:
    """Attach the hooks to every session (idempotent)."""
    if not event.contains(Session, "before_commit", _before_commit):
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_soft_rollback", _after_soft_rollback)


def _after_soft_rollback(session: Session, _previous: Any) -> None:
    _after_rollback(session)
