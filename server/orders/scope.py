"""Which orders a user sees: the same rule for the queue, a single order and its requests."""

from __future__ import annotations

import sqlalchemy as sa

from server.auth.models import Role, User
from server.auth.scope import units_condition
from server.findings.models import Finding
from server.orders.models import Order
from server.rounds.models import Round, RoundMode


def orders_condition(user: User) -> sa.ColumnElement[bool]:
    """A condition on Order joined with its Finding.

    Supervisors see their campaign's orders, triage included; a unit's liaison sees the orders
    addressed to the unit, except an unannounced round's before its findings are issued;
    inspectors see the orders of the units they inspect and of the findings they reported.
    """
    if user.role is Role.ADMIN:
        return sa.true()
    if user.role is Role.SUPERVISOR:
        return Finding.campaign_id == user.campaign_id
    if user.role is Role.LIAISON:
        withheld = sa.select(Round.id).where(Round.mode == RoundMode.UNANNOUNCED, Round.findings_issued_at.is_(None))
        return sa.and_(Order.unit_id == user.unit_id,
                       sa.or_(Finding.round_id.is_(None), Finding.round_id.not_in(withheld)))
    return sa.or_(Finding.reported_by == user.id, units_condition(user, Order.unit_id))


def visible_orders(user: User) -> sa.Select[tuple[Order]]:
    return sa.select(Order).join(Finding, Finding.id == Order.finding_id).where(orders_condition(user))
