"""Writing the audit trail; every service that changes something important calls :func:`record`."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from server.audit.models import ActorKind, AuditEvent
from server.clock import Clock


def record(session: Session, clock: Clock, action: str, *, actor_id: int | None = None,
           actor_kind: ActorKind = ActorKind.USER, device_id: uuid.UUID | None = None,
           entity: str = "", entity_id: object = "", reason: str = "",
           data: dict[str, Any] | None = None) -> AuditEvent:
    event = AuditEvent(
        occurred_at=clock.now(), actor_kind=actor_kind, actor_id=actor_id, device_id=device_id,
        action=action, entity=entity, entity_id=str(entity_id) if entity_id != "" else "",
        reason=reason, data=data or {},
    )
    session.add(event)
    return event
