"""What supervisors see of sync: quarantined mutations (replaying or dismissing them), conflicts,
devices. Each within the reviewer's campaign (an admin's: all), as the devices' owners belong
to it: another campaign's entry is 404, as if it did not exist."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.audit.services import record
from server.auth.models import Device, User
from server.auth.scope import campaign_condition, reach_of_user
from server.clock import Clock
from server.errors import Conflict, NotFound
from server.sync import locks
from server.sync.handlers import Context
from server.sync.models import DeviceSyncState, QuarantinedMutation, SyncConflict
from server.sync.push import apply_one
from sync_protocol.messages import MutationSchema, Outcome


def _owners_in(reviewer: User) -> sa.ColumnElement[bool]:
    """Users of the reviewer's campaign (every user for an admin)."""
    return campaign_condition(reach_of_user(reviewer), User.campaign_id)


def _open_item(session: Session, reviewer: User, quarantined_id: uuid.UUID) -> QuarantinedMutation:
    # Locked: two supervisors replaying (or dismissing) the same mutation at once must not both act on it.
    item = session.scalar(sa.select(QuarantinedMutation).join(User, User.id == QuarantinedMutation.user_id)
                          .where(QuarantinedMutation.id == quarantined_id, _owners_in(reviewer))
                          .with_for_update(of=QuarantinedMutation)
                          .execution_options(populate_existing=True))
    if item is None:
        raise NotFound(f"No quarantined mutation {quarantined_id}.")
    if item.status != "open":
        raise Conflict(f"This mutation was already {item.status}.")
    return item


def replay(session: Session, clock: Clock, supervisor: User, quarantined_id: uuid.UUID) -> dict[str, Any]:
    """Try a quarantined mutation again, as the user and device that sent it (after the cause
    was fixed, e.g. the unit was assigned). Applied: it leaves the quarantine. The same rules
    as on the push apply: a replay writes nothing its sender may not write."""
    item = _open_item(session, supervisor, quarantined_id)
    stored = dict(item.mutation)
    at = dt.datetime.fromisoformat(stored.pop("effective_time")) if "effective_time" in stored else clock.now()
    mutation = MutationSchema().load(stored)
    sender = session.get(User, item.user_id)
    ctx = Context(session, clock, sender, item.device_id, at, item.seq)
    # apply_one quarantines a failure again under the same (device, seq): drop the old entry first.
    session.delete(item)
    session.flush()
    held = locks.lock_batch(session, [mutation])  # noqa: F841 - as a push does (server.sync.locks)
    result = apply_one(session, ctx, mutation)
    if result["outcome"] != Outcome.REJECTED.value:
        session.add(QuarantinedMutation(device_id=item.device_id, user_id=item.user_id, seq=item.seq,
                                        mutation=item.mutation, problem=item.problem, received_at=item.received_at,
                                        status="replayed", resolved_at=clock.now(), resolved_by=supervisor.id))
    record(session, clock, "sync.replayed", actor_id=supervisor.id, entity=item.mutation["entity"],
           entity_id=item.mutation["id"], data={"outcome": result["outcome"], "seq": item.seq})
    return result


def dismiss(session: Session, clock: Clock, supervisor: User, quarantined_id: uuid.UUID,
            reason: str) -> QuarantinedMutation:
    """Close a quarantined mutation without applying it (a mistaken capture, a duplicate made
    by hand), saying why; the entry is kept."""
    item = _open_item(session, supervisor, quarantined_id)
    item.status, item.resolved_at, item.resolved_by, item.resolution = "dismissed", clock.now(), supervisor.id, reason
    record(session, clock, "sync.dismissed", actor_id=supervisor.id, entity=item.mutation["entity"],
           entity_id=item.mutation["id"], reason=reason, data={"seq": item.seq, "device_id": str(item.device_id)})
    return item


def quarantined(session: Session, supervisor: User, status: str, limit: int) -> list[QuarantinedMutation]:
    stmt = (sa.select(QuarantinedMutation).join(User, User.id == QuarantinedMutation.user_id)
            .where(QuarantinedMutation.status == status, _owners_in(supervisor)))
    return list(session.scalars(stmt.order_by(QuarantinedMutation.received_at).limit(limit)))


def conflicts(session: Session, supervisor: User, limit: int) -> list[SyncConflict]:
    """Edits that met on the server, newest first, those needing a person first: of the devices
    of the reviewer's campaign."""
    stmt = (sa.select(SyncConflict).join(Device, Device.id == SyncConflict.device_id)
            .join(User, User.id == Device.user_id).where(_owners_in(supervisor)))
    return list(session.scalars(stmt.order_by(SyncConflict.needs_person.desc(), SyncConflict.created_at.desc())
                                .limit(limit)))


def devices(session: Session, supervisor: User, limit: int) -> list[dict[str, Any]]:
    """The campaign's devices: whose, what the login said it is, its last push and pull."""
    rows = session.execute(
        sa.select(Device, User, DeviceSyncState).join(User, User.id == Device.user_id)
        .outerjoin(DeviceSyncState, DeviceSyncState.device_id == Device.id).where(_owners_in(supervisor))
        .order_by(DeviceSyncState.last_push_at.desc().nulls_last(), Device.id).limit(limit))
    return [{"device_id": device.id, "user_id": user.id, "username": user.username,
             "display_name": user.display_name, "name": device.name, "platform": device.platform,
             "app_version": device.app_version, "last_seen_at": device.last_seen_at,
             "revoked_at": device.revoked_at, "released_at": device.released_at,
             "last_seq": state.last_seq if state else 0, "last_push_at": state.last_push_at if state else None,
             "last_pull_at": state.last_pull_at if state else None,
             "clock_offset_ms": state.clock_offset_ms if state else None,
             "telemetry": state.telemetry if state else {}}
            for device, user, state in rows]
