"""One order as the API and the console meet it: a step taken on it, and its whole file.

Both front ends take a step the same way, so they cannot drift apart: the order is read within
the caller's reach (``NotFound`` outside it, as if it did not exist) and locked, the write rule
of :mod:`server.auth.scope` is asked, the step runs through the state machine of
:mod:`server.orders.services` (which raises ``IllegalTransition`` for a step the state does not
allow), and the whole is committed once. The file is what both show of the order afterwards.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.attachments.models import PhotoRole
from server.attachments.services import attach
from server.audit.models import AuditEvent
from server.auth.models import Role, User
from server.auth.scope import Reach
from server.clock import Clock
from server.findings import services as finding_services
from server.findings.evidence import photos_named
from server.findings.models import Finding
from server.orders import bulk, queue, services
from server.orders.models import Escalation, Order, OrderRequest, Response
from server.units.models import Unit

#: A step on a loaded order: (session, order, its finding, the user taking it).
Act = Callable[[Session, Order, Finding, User], object]


def take(session: Session, reach: Reach, user: User, order_id: uuid.UUID, action: str,
         act: Act) -> tuple[Order, Finding]:
    """Take ``act`` on the order as ``user`` if the write rule ``action`` allows it; commits.

    ``NotFound`` for an order outside ``reach``, ``Forbidden`` where the rule refuses, and
    whatever the step raises; nothing is written then.
    """
    order, finding = bulk.visible_order(session, reach, order_id, lock=True)
    bulk.check_may(session, reach, action, order)
    act(session, order, finding, user)
    session.commit()
    return order, finding


def respond(session: Session, clock: Clock, order: Order, user: User, *, response_id: uuid.UUID, measures: str,
            photos: list[str], device_id: uuid.UUID | None) -> Response:
    """The unit's answer (整改反馈) with its after-photos, named by SHA-256 (uploaded over tus,
    before or after)."""
    response = services.respond(session, clock, order, user, response_id=response_id, measures=measures,
                                device_id=device_id)
    if photos:
        attach(session, clock, photos, role=PhotoRole.AFTER, response_id=response.id, device_id=device_id)
    return response


def order_file(session: Session, order: Order, finding: Finding, *, viewer: User, now: dt.datetime) -> dict[str, Any]:
    """The order's whole file: its finding, photos, responses, requests, escalations and every
    step taken, as ``viewer`` may see it (a unit is not told which device took a step)."""
    history = session.scalars(sa.select(AuditEvent).where(AuditEvent.entity == "order",
                                                          AuditEvent.entity_id == str(order.id))
                              .order_by(AuditEvent.occurred_at, AuditEvent.id)).all()
    responses = session.scalars(sa.select(Response).where(Response.order_id == order.id)
                                .order_by(Response.responded_at)).all()
    unit_name = session.scalar(sa.select(Unit.name).where(Unit.id == order.unit_id)) \
        if order.unit_id is not None else None
    return {**queue.present(session, order, finding, unit_name, now),
            "finding": finding_services.present(finding, finding_services.names_of(session, [finding])),
            "before_photos": photos_named(session, finding_ids=[finding.id]),
            "after_photos": photos_named(session, response_ids=[r.id for r in responses]),
            "responses": responses,
            "requests": session.scalars(sa.select(OrderRequest).where(OrderRequest.order_id == order.id)
                                        .order_by(OrderRequest.requested_at)).all(),
            "escalations": session.scalars(sa.select(Escalation).where(Escalation.order_id == order.id)
                                           .order_by(Escalation.level)).all(),
            "history": [as_seen_by(viewer, event) for event in history]}


def as_seen_by(viewer: User, event: AuditEvent) -> AuditEvent | dict[str, Any]:
    """A step of the order's history as ``viewer`` sees it: to a unit, which device took it is
    no business of the unit's."""
    if viewer.role is not Role.LIAISON:
        return event
    return {**{name: getattr(event, name) for name in ("occurred_at", "action", "actor_kind", "actor_id", "reason",
                                                       "data")}, "device_id": None}
