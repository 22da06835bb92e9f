"""Steps on many orders at once (批量复查 / 退回 / 改派), each item on its own.

Every order named is loaded within the caller's scope, checked against the write rules
(server.auth.scope) and the state machine, and stepped inside its own savepoint: one refusal
(not found, not allowed, wrong state) is answered for that item and undoes nothing of the
others. Each step writes its own audit event and notice, exactly as the single-order step.
"""

from __future__ import annotations

import enum
import uuid
from typing import Any

from sqlalchemy.orm import Session

from server.auth import scope
from server.auth.models import User
from server.auth.scope import Reach, visible_orders
from server.clock import Clock
from server.errors import AppError, Forbidden, NotFound, ValidationFailed
from server.findings.models import Finding
from server.orders import services
from server.orders.models import Order
from server.units.models import Unit


class BulkAction(enum.Enum):
    VERIFY = "verify"
    REJECT = "reject"
    ASSIGN = "assign"


#: The write rule each bulk action asks, as the single-order step does.
RULES = {BulkAction.VERIFY: "order.verify", BulkAction.REJECT: "order.reject", BulkAction.ASSIGN: "order.assign"}


def visible_order(session: Session, reach: Reach, order_id: uuid.UUID, *, lock: bool = False) -> tuple[Order, Finding]:
    """The order and its finding, or NotFound whether it does not exist or is out of scope.
    With ``lock`` the order's row is locked on PostgreSQL, so two steps on it queue up."""
    stmt = visible_orders(reach).add_columns(Finding).where(Order.id == order_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=Order)
    row = session.execute(stmt).first()
    if row is None:
        raise NotFound(f"No order {order_id}.")
    return row[0], row[1]


def check_may(session: Session, reach: Reach, action: str, order: Order) -> None:
    """The write rules of server.auth.scope; the order is readable (else NotFound came first),
    so a refusal here is the role's."""
    if not scope.may(session, reach, action, scope.order_case(session, order)):
        raise Forbidden(f"This role may not take this step ({action}).")


def unit_for_assignment(session: Session, finding: Finding, unit_id: int) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None or unit.campaign_id != finding.campaign_id:
        raise ValidationFailed("No such unit in the order's campaign.",
                               errors=[{"field": "unit_id", "message": "unknown unit"}])
    return unit


def _step(session: Session, clock: Clock, action: BulkAction, order: Order, finding: Finding, user: User,
          params: dict[str, Any], device_id: uuid.UUID | None) -> None:
    if action is BulkAction.VERIFY:
        services.verify(session, clock, order, user, note=params.get("note", ""), device_id=device_id)
    elif action is BulkAction.REJECT:
        services.reject(session, clock, order, user, reason=params["reason"], device_id=device_id)
    else:
        unit = unit_for_assignment(session, finding, params["unit_id"])
        services.assign(session, clock, order, user, unit_id=unit.id, reason=params.get("reason", ""),
                        device_id=device_id)


def apply(session: Session, clock: Clock, reach: Reach, user: User, action: BulkAction,
          order_ids: list[uuid.UUID], params: dict[str, Any], *,
          device_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    """Take ``action`` on each order; one answer per distinct id, in the order given."""
    check_params(action, params)
    results = []
    for order_id in dict.fromkeys(order_ids):
        try:
            with session.begin_nested():
                order, finding = visible_order(session, reach, order_id, lock=True)
                check_may(session, reach, RULES[action], order)
                _step(session, clock, action, order, finding, user, params, device_id)
            results.append({"id": order_id, "ok": True, "status": order.status.value, "version": order.version})
        except AppError as exc:
            results.append({"id": order_id, "ok": False, "code": exc.code.value, "detail": exc.detail or exc.title,
                            "status": exc.extra.get("status_now")})
    return results


def check_params(action: BulkAction, params: dict[str, Any]) -> None:
    """What the action needs besides the ids, refused before any item is touched."""
    if action is BulkAction.REJECT and not (params.get("reason") or "").strip():
        raise ValidationFailed("A rejection needs a reason.", errors=[{"field": "reason", "message": "required"}])
    if action is BulkAction.ASSIGN and params.get("unit_id") is None:
        raise ValidationFailed("Name the unit to assign to.", errors=[{"field": "unit_id", "message": "required"}])
