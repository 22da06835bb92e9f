"""The bulk statements the sweep, the push and the feed write with (server.db): the same rows,
defaults and errors as an INSERT, on SQLite and on PostgreSQL (where they use COPY)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from server.audit.models import ActorKind, AuditEvent
from server.db import BULK_MIN_ROWS, SQLITE_CACHE_KIB, among, insert_rows, model_of, unattached, upsert_rows
from server.sync.models import SyncRow

NOW = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.timezone.utc)
#: A request's few rows, and a batch large enough for COPY on PostgreSQL.
SIZES = pytest.mark.parametrize("size", [3, BULK_MIN_ROWS], ids=["few", "bulk"])


def _event(**extra: object) -> dict[str, object]:
    return {"id": uuid.uuid4(), "occurred_at": NOW, "actor_kind": ActorKind.SCHEDULER, "action": "order.escalated",
            "entity": "order", "entity_id": "x", "reason": "逾期未整改", "data": {"level": 2, "名": "值"}, **extra}


@SIZES
def test_rows_are_stored_as_an_insert_stores_them_with_defaults_for_what_they_leave_out(session, size):
    rows = [_event(actor_id=None, device_id=None) for _ in range(size)]
    rows[1]["reason"] = "含'引号\"与\\反斜杠\t"
    partial = {k: v for k, v in _event().items() if k not in ("entity", "entity_id", "reason", "data")}
    insert_rows(session, AuditEvent.__table__, rows)
    insert_rows(session, AuditEvent.__table__, [partial] + [
        {k: v for k, v in _event().items() if k in partial} for _ in range(size - 1)])
    session.commit()
    stored = {e.id: e for e in session.scalars(sa.select(AuditEvent))}
    assert stored[rows[1]["id"]].reason == rows[1]["reason"] and stored[rows[0]["id"]].data == {"level": 2, "名": "值"}
    assert stored[rows[2]["id"]].occurred_at == NOW and stored[rows[2]["id"]].actor_kind is ActorKind.SCHEDULER
    left_out = stored[partial["id"]]
    assert (left_out.entity, left_out.entity_id, left_out.reason, left_out.data) == ("", "", "", {})


@SIZES
def test_a_taken_key_is_an_integrity_error_and_a_savepoint_recovers(session, size):
    row = _event()
    insert_rows(session, AuditEvent.__table__, [row])
    attempt = session.begin_nested()
    with pytest.raises(sa.exc.IntegrityError):
        insert_rows(session, AuditEvent.__table__, [*(_event() for _ in range(size - 1)), dict(row)])
    attempt.rollback()
    session.commit()
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 1


@SIZES
def test_an_upsert_updates_the_rows_it_finds_and_inserts_the_others(session, size):
    def feed_row(entity_id: str, seq: int, payload: str) -> dict[str, object]:
        return {"entity": "finding", "entity_id": entity_id, "scope_key": "o:1", "seq": seq, "deleted": False,
                "payload": payload, "campaign_id": 1, "changed_at": NOW}

    key, update = ["entity", "entity_id", "scope_key"], ["seq", "payload", "deleted", "changed_at"]
    filler = [feed_row(f"z{i}", 1000 + i, "{}") for i in range(size - 2)]
    upsert_rows(session, SyncRow.__table__, [feed_row("a", 1, "{}"), feed_row("b", 2, "{}")], key=key, update=update)
    upsert_rows(session, SyncRow.__table__, [feed_row("b", 3, '{"v":2}'), feed_row("c", 4, "{}"), *filler],
                key=key, update=update)
    session.commit()
    stored = {(r.entity_id, r.seq, r.payload) for r in session.scalars(sa.select(SyncRow).where(
        SyncRow.entity_id.in_(["a", "b", "c"])))}
    assert stored == {("a", 1, "{}"), ("b", 3, '{"v":2}'), ("c", 4, "{}")}
    assert session.scalar(sa.select(sa.func.count()).select_from(SyncRow)) == 3 + len(filler)


def test_among_matches_like_in_for_a_long_list(session):
    rows = [_event() for _ in range(5)]
    insert_rows(session, AuditEvent.__table__, rows)
    wanted = [rows[0]["id"], rows[3]["id"], *(uuid.uuid4() for _ in range(3000))]
    found = set(session.scalars(sa.select(AuditEvent.id).where(among(session, AuditEvent.id, wanted))))
    assert found == {rows[0]["id"], rows[3]["id"]}


def test_sqlite_connections_keep_a_large_transaction_in_their_page_cache(session, is_postgres):
    if is_postgres:
        pytest.skip("a SQLite setting")
    pragmas = session.connection().exec_driver_sql
    assert pragmas("PRAGMA cache_size").scalar_one() == -SQLITE_CACHE_KIB
    # Still the other settings every connection gets.
    assert pragmas("PRAGMA foreign_keys").scalar_one() == 1
    assert pragmas("PRAGMA journal_mode").scalar_one() == "wal"


def test_a_copy_of_a_row_is_plain_attributes_that_name_their_model():
    values = _event(actor_id=None, device_id=None)
    copy = unattached(AuditEvent, dict(values))
    assert model_of(copy) is AuditEvent and model_of(AuditEvent(**values)) is AuditEvent
    assert (copy.id, copy.reason, copy.data) == (values["id"], "逾期未整改", {"level": 2, "名": "值"})
    # Steps taken on it are plain assignments: no instrumentation, no session, no lazy loads.
    copy.reason = "人工升级"
    assert copy.__dict__["reason"] == "人工升级" and not isinstance(copy, AuditEvent)
    with pytest.raises(AttributeError):
        copy.not_a_column  # noqa: B018 - a copy holds the row's columns and nothing else
