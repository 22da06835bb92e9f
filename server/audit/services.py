"""Writing the audit trail; every service that changes something important calls :func:`record`."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from server.audit.models import ActorKind, AuditEvent
from server.clock import Clock
from server.db import new_id


def event_values(clock: Clock, action: str, *, actor_id: int | None = None,
                 actor_kind: ActorKind = ActorKind.USER, device_id: uuid.UUID | None = None,
                 entity: str = "", entity_id: object = "", reason: str = "",
                 data: dict[str, Any] | None = None) -> dict[str, Any]:
    """The columns of one audit event; :func:`record` adds it, bulk callers insert many at once."""
    return {"id": new_id(), "occurred_at": clock.now(), "actor_kind": actor_kind, "actor_id": actor_id,
            "device_id": device_id, "action": action, "entity": entity,
            "entity_id": str(entity_id) if entity_id != "" else "", "reason": reason, "data": data or {}}


def record(session: Session, clock: Clock, action: str, **details: Any) -> AuditEvent:
    """Add an audit event to the session (written with the caller's transaction)."""
    event = AuditEvent(**event_values(clock, action, **details))
    session.add(event)
    return event
