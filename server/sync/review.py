"""What supervisors see of sync: quarantined mutations (and replaying them), conflicts, devices."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.audit.services import record
from server.auth.models import User
from server.clock import Clock
from server.errors import Conflict, NotFound
from server.sync import locks
from server.sync.handlers import Context
from server.sync.models import QuarantinedMutation
from server.sync.push import apply_one
from sync_protocol.messages import MutationSchema, Outcome


def replay(session: Session, clock: Clock, supervisor: User, quarantined_id: uuid.UUID) -> dict[str, Any]:
    """Try a quarantined mutation again, as the user and device that sent it (after the cause
    was fixed, e.g. the unit was assigned). Applied: it leaves the quarantine."""
    # Locked: two supervisors replaying the same mutation at once must not both apply it.
    item = session.get(QuarantinedMutation, quarantined_id, with_for_update=True, populate_existing=True)
    if item is None:
        raise NotFound(f"No quarantined mutation {quarantined_id}.")
    if item.status != "open":
        raise Conflict(f"This mutation was already {item.status}.")
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


def quarantined(session: Session, supervisor: User, status: str, limit: int) -> list[QuarantinedMutation]:
    stmt = sa.select(QuarantinedMutation).where(QuarantinedMutation.status == status)
    if supervisor.campaign_id is not None:
        stmt = stmt.join(User, User.id == QuarantinedMutation.user_id).where(
            User.campaign_id == supervisor.campaign_id)
    return list(session.scalars(stmt.order_by(QuarantinedMutation.received_at).limit(limit)))
