"""Sync bookkeeping: the change feed devices pull, and what each device has pushed.

The feed (:class:`SyncRow`) holds one row per record and scope key with the sequence of its
latest change and its payload as sent on the wire, so a pull is one indexed range scan
with no joins and no re-serialisation, and a deletion stays as a tombstone.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UUIDPrimaryKey


class SyncCounter(Base):
    """The single row that hands out change sequences.

    A writer takes it (UPDATE ... RETURNING) as the last step before committing and holds its
    row lock until the commit, so sequences are handed out in commit order: a reader that has
    seen sequence N can never later find a smaller one appear (PostgreSQL commits concurrent
    transactions in any order, which would otherwise let a pull skip a row for good).
    """

    __tablename__ = "sync_counter"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    #: Tombstones up to this sequence have been purged: older cursors must start over.
    horizon: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class SyncRow(Base):
    __tablename__ = "sync_rows"
    __table_args__ = (
        sa.Index("ix_sync_rows_scope_key_seq", "scope_key", "seq"),
        sa.Index("ix_sync_rows_campaign_id_seq", "campaign_id", "seq"),
    )

    entity: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    entity_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    #: Who may see it, e.g. "u:12" (unit 12's records), "c:1" (campaign reference data).
    scope_key: Mapped[str] = mapped_column(sa.String(48), primary_key=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger, unique=True)
    deleted: Mapped[bool] = mapped_column(default=False)
    #: The record as JSON text, exactly as pulls send it; empty for tombstones.
    payload: Mapped[str] = mapped_column(sa.Text, default="")
    campaign_id: Mapped[int] = mapped_column()
    changed_at: Mapped[dt.datetime]


class DeviceSyncState(Base):
    __tablename__ = "device_sync_state"

    device_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("devices.id", ondelete="CASCADE"),
                                                 primary_key=True)
    #: The highest mutation sequence taken from this device (applied, merged, rejected or conflict).
    last_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    last_push_at: Mapped[dt.datetime | None]
    last_pull_at: Mapped[dt.datetime | None]
    #: Server time minus device time at the last push, in milliseconds.
    clock_offset_ms: Mapped[int | None] = mapped_column(sa.BigInteger)
    telemetry: Mapped[dict[str, Any]] = mapped_column(default=dict)


class SyncReceipt(Base):
    """What the server answered for one mutation, so a re-sent batch gets the same answers."""

    __tablename__ = "sync_receipts"

    device_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("devices.id", ondelete="CASCADE"),
                                                 primary_key=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    result: Mapped[dict[str, Any]]
    received_at: Mapped[dt.datetime]


class DevicePush(UUIDPrimaryKey, Base):
    """One push: the device's clock offset and the telemetry it sent, for spotting stuck phones."""

    __tablename__ = "device_pushes"
    __table_args__ = (sa.Index("ix_device_pushes_device_id_received_at", "device_id", "received_at"),)

    device_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("devices.id", ondelete="CASCADE"))
    received_at: Mapped[dt.datetime]
    clock_offset_ms: Mapped[int] = mapped_column(sa.BigInteger)
    mutations: Mapped[int]
    outbox_depth: Mapped[int | None]
    oldest_unsynced_age_s: Mapped[int | None]
    app_version: Mapped[str] = mapped_column(sa.String(40), default="")
    schema_version: Mapped[int | None]


class QuarantinedMutation(UUIDPrimaryKey, Base):
    """A mutation that could not apply: kept, shown to supervisors, and replayable."""

    __tablename__ = "sync_quarantine"
    __table_args__ = (sa.UniqueConstraint("device_id", "seq"),)

    device_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("devices.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(sa.BigInteger)
    mutation: Mapped[dict[str, Any]]
    problem: Mapped[dict[str, Any]]
    received_at: Mapped[dt.datetime] = mapped_column(index=True)
    #: open, replayed (applied later) or dismissed
    status: Mapped[str] = mapped_column(sa.String(16), default="open")
    resolved_at: Mapped[dt.datetime | None]
    resolved_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: Why a supervisor dismissed it.
    resolution: Mapped[str] = mapped_column(sa.Text, default="")


class SyncConflict(UUIDPrimaryKey, Base):
    """Two edits met: recorded even when resolved automatically, so nothing is silently lost."""

    __tablename__ = "sync_conflicts"
    __table_args__ = (sa.Index("ix_sync_conflicts_entity", "entity", "entity_id"),)

    entity: Mapped[str] = mapped_column(sa.String(16))
    entity_id: Mapped[str] = mapped_column(sa.String(36))
    device_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("devices.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(sa.BigInteger)
    #: concurrent_edit (settled by the merge rule) or illegal_transition (needs a person)
    kind: Mapped[str] = mapped_column(sa.String(32))
    #: The values that lost, and the server's version at the time.
    detail: Mapped[dict[str, Any]]
    needs_person: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(index=True)
    resolved_at: Mapped[dt.datetime | None]


class ScopeSnapshot(Base):
    """The scope keys a device had when a cursor was issued, so a lost pull can be repeated."""

    __tablename__ = "scope_snapshots"
    __table_args__ = (sa.UniqueConstraint("device_id", "keys_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("devices.id", ondelete="CASCADE"))
    keys_hash: Mapped[str] = mapped_column(sa.String(64))
    keys: Mapped[list[Any]]
    created_at: Mapped[dt.datetime]
