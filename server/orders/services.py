"""The order workflow: raising an order for a finding, and the steps a unit and a supervisor take.

One state machine for every caller (sync commands today; the API, the console and the
scheduler call the same functions). A step the order's state does not allow raises
:class:`IllegalTransition`, never a silent overwrite.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from server.audit.services import record
from server.auth.models import Role, User
from server.clock import Clock
from server.errors import Conflict, Forbidden
from server.findings.models import Finding
from server.orders.models import Order, OrderStatus, Response
from sync_protocol.problems import ProblemCode


class IllegalTransition(Conflict):
    code = ProblemCode.ILLEGAL_TRANSITION
    title = "Not allowed in the order's current state"


#: Which step may follow which state.
ALLOWED = {
    "respond": {OrderStatus.ISSUED},
    "verify": {OrderStatus.RESPONDED},
    "reject": {OrderStatus.RESPONDED},
}


def raise_order(session: Session, clock: Clock, finding: Finding, *, actor_id: int | None,
                device_id: uuid.UUID | None = None) -> Order:
    """Every finding becomes an order to its unit; one without a unit waits in triage."""
    order = Order(id=uuid.uuid4(), finding_id=finding.id, unit_id=finding.unit_id, level=1,
                  status=OrderStatus.ISSUED if finding.unit_id is not None else OrderStatus.TRIAGE,
                  issued_at=clock.now(), issued_by=actor_id)
    session.add(order)
    record(session, clock, "order.raised", actor_id=actor_id, device_id=device_id, entity="order",
           entity_id=order.id, data={"finding_id": str(finding.id), "unit_id": finding.unit_id})
    return order


def void_for_finding(session: Session, clock: Clock, finding: Finding, *, actor_id: int | None,
                     device_id: uuid.UUID | None = None) -> None:
    """A finding withdrawn by its reporter takes its open orders with it (作废)."""
    from sqlalchemy import select

    for order in session.scalars(select(Order).where(
            Order.finding_id == finding.id, Order.status.not_in([OrderStatus.CLOSED, OrderStatus.VOIDED]))):
        order.status = OrderStatus.VOIDED
        order.version += 1
        record(session, clock, "order.voided", actor_id=actor_id, device_id=device_id, entity="order",
               entity_id=order.id, reason="finding deleted")


def _check(order: Order, step: str) -> None:
    if order.status not in ALLOWED[step]:
        raise IllegalTransition(f"Cannot {step} an order that is {order.status.value}.")


def respond(session: Session, clock: Clock, order: Order, user: User, *, response_id: uuid.UUID,
            measures: str, device_id: uuid.UUID | None = None) -> Response:
    """The unit's answer (整改反馈): measures taken; after-photos are attached to the response."""
    if user.role is Role.LIAISON and user.unit_id != order.unit_id:
        raise Forbidden("Only the unit the order is addressed to may respond.")
    if user.role is Role.INSPECTOR:
        raise Forbidden("Inspectors verify responses; the unit responds.")
    _check(order, "respond")
    response = Response(id=response_id, order_id=order.id, unit_id=order.unit_id, responder_id=user.id,
                        device_id=device_id, measures=measures, responded_at=clock.now())
    session.add(response)
    order.status = OrderStatus.RESPONDED
    order.version += 1
    session.flush()
    record(session, clock, "order.responded", actor_id=user.id, device_id=device_id, entity="order",
           entity_id=order.id, data={"response_id": str(response_id)})
    return response


def _last_responder(session: Session, order: Order) -> int | None:
    from sqlalchemy import select

    return session.scalar(select(Response.responder_id).where(Response.order_id == order.id)
                          .order_by(Response.responded_at.desc()).limit(1))


def verify(session: Session, clock: Clock, order: Order, user: User, *, note: str = "",
           device_id: uuid.UUID | None = None) -> None:
    """复查 passed: the order is closed (销号). Never by the person who responded."""
    _check_verifier(session, order, user)
    _check(order, "verify")
    order.status = OrderStatus.CLOSED
    order.closed_at = clock.now()
    order.version += 1
    record(session, clock, "order.closed", actor_id=user.id, device_id=device_id, entity="order",
           entity_id=order.id, reason=note)


def reject(session: Session, clock: Clock, order: Order, user: User, *, reason: str,
           device_id: uuid.UUID | None = None) -> None:
    """复查 failed (退回): back to the unit with the reason."""
    _check_verifier(session, order, user)
    _check(order, "reject")
    order.status = OrderStatus.ISSUED
    order.version += 1
    record(session, clock, "order.rejected", actor_id=user.id, device_id=device_id, entity="order",
           entity_id=order.id, reason=reason)


def _check_verifier(session: Session, order: Order, user: User) -> None:
    if user.role is Role.LIAISON:
        raise Forbidden("A unit cannot verify its own rectification.")
    if _last_responder(session, order) == user.id:
        raise Forbidden("The person who responded cannot verify the response.")
