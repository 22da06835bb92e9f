"""Comments on an order: append-only notes in its timeline (the audit trail), beside its steps.

A comment is an audit event of the order, so the timeline (``history`` in an order's file) is
one list in time order, steps and comments together, and a comment can be neither edited nor
deleted: what was said stays as it was said, as a 台帐 needs.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from server.audit.models import ActorKind, AuditEvent
from server.audit.services import record
from server.auth.models import User
from server.clock import Clock
from server.errors import ValidationFailed
from server.orders.models import Order

ACTION = "order.commented"


def comment(session: Session, clock: Clock, order: Order, user: User, *, text: str,
            device_id: uuid.UUID | None = None) -> AuditEvent:
    """Add the caller's comment to the order's timeline (who may, server.auth.scope decides)."""
    if not text.strip():
        raise ValidationFailed("A comment needs some text.", errors=[{"field": "text", "message": "required"}])
    return record(session, clock, ACTION, actor_id=user.id, actor_kind=ActorKind.USER, device_id=device_id,
                  entity="order", entity_id=order.id, reason=text.strip(), data={"comment": True})
