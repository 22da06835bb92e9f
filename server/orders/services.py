"""The order workflow: one state machine for every caller.

Sync commands, the REST API, the console and the scheduler all call these functions. A step
the order's state does not allow raises :class:`IllegalTransition`; a step the actor may not
take raises :class:`Forbidden`; neither changes anything. Every step is an audit event with
who (a user, or the scheduler), when, from which device and why.

Deadlines are computed here, from the policy version the order was created under and the
working-time calendar; the scheduler only compares them with the clock.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.audit.models import ActorKind, AuditEvent
from server.audit.services import event_values, record
from server.auth.models import Role, User
from server.clock import Clock
from server.db import insert_rows, unattached, with_defaults
from server.errors import Conflict, Forbidden, ValidationFailed
from server.findings.models import Finding
from server.orders import notices
from server.orders.deadlines import calendar, clear_deadline, move_deadline, set_deadline, stop_clock
from server.orders.models import (Escalation, Order, OrderRequest, OrderStatus, RequestKind, RequestStatus,
                                  Response)
from server.orders.policy import Policy, current_policy, policy
from server.rounds.models import Round, RoundMode
from server.worktime.calendar import Deadline
from server.worktime.limits import Limit
from sync_protocol.problems import ProblemCode


class IllegalTransition(Conflict):
    code = ProblemCode.ILLEGAL_TRANSITION
    title = "Not allowed in the order's current state"


@dataclass(frozen=True)
class Actor:
    """Who takes a step: a user on a device, or the scheduler (user None)."""

    user: User | None
    device_id: uuid.UUID | None = None

    @property
    def id(self) -> int | None:
        return self.user.id if self.user is not None else None

    @property
    def kind(self) -> ActorKind:
        return ActorKind.USER if self.user is not None else ActorKind.SCHEDULER


SCHEDULER = Actor(None)

#: Which step may follow which state.
ALLOWED: dict[str, frozenset[OrderStatus]] = {
    "assign": frozenset({OrderStatus.TRIAGE, OrderStatus.ISSUED}),
    "respond": frozenset({OrderStatus.ISSUED}),
    "verify": frozenset({OrderStatus.RESPONDED}),
    "reject": frozenset({OrderStatus.RESPONDED}),
    "extend": frozenset({OrderStatus.ISSUED}),
    "escalate": frozenset({OrderStatus.ISSUED}),
    "park": frozenset({OrderStatus.ISSUED}),
    "resume": frozenset({OrderStatus.PARKED}),
    "void": frozenset({OrderStatus.TRIAGE, OrderStatus.ISSUED, OrderStatus.RESPONDED, OrderStatus.PARKED}),
    "request": frozenset({OrderStatus.ISSUED}),
}

_STAFF = frozenset({Role.ADMIN, Role.SUPERVISOR})


def _check(order: Order, step: str) -> None:
    if order.status not in ALLOWED[step]:
        raise IllegalTransition(f"Cannot {step} an order that is {order.status.value}.",
                                status_now=order.status.value, version=order.version)


def _staff_only(actor: Actor, what: str) -> None:
    if actor.user is not None and actor.user.role not in _STAFF:
        raise Forbidden(f"Only a supervisor may {what}.")


def _log(session: Session, clock: Clock, action: str, order: Order, actor: Actor, *, reason: str = "",
         data: dict[str, object] | None = None) -> None:
    record(session, clock, action, actor_id=actor.id, actor_kind=actor.kind, device_id=actor.device_id,
           entity="order", entity_id=order.id, reason=reason, data=data)


def _finding(session: Session, order: Order) -> Finding:
    finding = session.get(Finding, order.finding_id)
    assert finding is not None, "orders cascade with their finding"
    return finding


def _policy(session: Session, order: Order) -> Policy:
    return policy(session, order.policy_version)


def _limit(session: Session, order: Order, finding: Finding) -> Limit:
    return _policy(session, order).limit_for(order.level, finding.category, finding.severity.value)


def _withheld_rounds(session: Session, findings: list[Finding]) -> set[int]:
    """The unannounced rounds among the findings' whose findings reach the units only once
    they are issued (暗访)."""
    ids = {f.round_id for f in findings if f.round_id is not None}
    if not ids:
        return set()
    return set(session.scalars(sa.select(Round.id).where(Round.id.in_(ids), Round.mode == RoundMode.UNANNOUNCED,
                                                         Round.findings_issued_at.is_(None))))


def _start(session: Session, clock: Clock, order: Order, finding: Finding, start: dt.datetime, *,
           now: dt.datetime | None = None) -> None:
    """Give the unit its time at the order's level, from ``start``."""
    set_deadline(session, order, start, _limit(session, order, finding), now=now or clock.now())


# -- raising -----------------------------------------------------------------------------------


def raise_order(session: Session, clock: Clock, finding: Finding, *, actor_id: int | None,
                device_id: uuid.UUID | None = None) -> Order:
    """Every finding becomes an order to its unit; one without a unit waits in triage.

    The deadline starts now, except for an unannounced round's findings: their clock starts
    when the round's findings are issued, so the unit never learns of the visit early.
    """
    return raise_orders(session, clock, [finding], actor_id=actor_id, device_id=device_id)[0]


def raise_orders(session: Session, clock: Clock, findings: list[Finding], *, actor_id: int | None,
                 device_id: uuid.UUID | None = None, in_bulk: bool = False) -> list[Order]:
    """:func:`raise_order` for a batch of findings, raised at one instant: the policy, the
    rounds, earlier closed orders and the units' people are each read once for the batch.

    ``in_bulk``: the orders and their audit events are written with one statement per table
    and returned as copies the session does not track, for a caller that writes its records
    the same way; it publishes them with :func:`server.sync.feed.written_in_bulk` once its
    own writes have held. Otherwise they are added to the session like any record.
    """
    # The caller's batch may still hold unflushed records; reading the policy and the history
    # must not flush them from here (a duplicate among them is the caller's to report).
    with session.no_autoflush:
        pol = current_policy(session, clock)
        now = clock.now()
        actor = Actor(session.get(User, actor_id) if actor_id is not None else None, device_id)
        withheld = _withheld_rounds(session, findings)
        rebounds = _rebounds(session, clock, findings, pol)
        notices.prefetch_units(session, {f.unit_id for f in findings if f.unit_id is not None})
        orders: list[Order] = []
        events: list[dict[str, object]] = []
        for finding in findings:
            values = {"id": uuid.uuid4(), "finding_id": finding.id, "unit_id": finding.unit_id, "level": 1,
                      "status": OrderStatus.ISSUED if finding.unit_id is not None else OrderStatus.TRIAGE,
                      "issued_at": now, "issued_by": actor_id, "policy_version": pol.version}
            order = unattached(Order, with_defaults(Order.__table__, values)) if in_bulk else Order(**values)
            if not in_bulk:
                session.add(order)
            starts = order.status is OrderStatus.ISSUED and finding.round_id not in withheld
            if starts:
                _start(session, clock, order, finding, now, now=now)
            rebound = rebounds.get(finding.id)
            if rebound is not None:
                order.rebound_of_id = rebound.id
            events.append(_event(clock, "order.raised", order, actor, data={
                "finding_id": str(finding.id), "unit_id": finding.unit_id, "due_at": _iso(order.due_at),
                "limit": order.time_limit, "rebound_of": str(rebound.id) if rebound is not None else None}))
            if rebound is not None:
                events.append(_event(clock, "order.rebound", order, actor, reason="同一位置问题在销号后再次出现",
                                     data={"closed_order": str(rebound.id), "closed_at": _iso(rebound.closed_at)}))
            if starts:
                notices.issued(session, clock, order, finding)
            elif order.status is OrderStatus.TRIAGE:
                notices.to_supervisors(session, clock, order, finding, kind="order.triage")
            orders.append(order)
        if in_bulk:
            insert_rows(session, Order.__table__, [{c: o.__dict__[c] for c in _ORDER_COLUMNS} for o in orders])
            insert_rows(session, AuditEvent.__table__, events)
        else:
            session.add_all(AuditEvent(**event) for event in events)
    return orders


_ORDER_COLUMNS = tuple(Order.__table__.columns.keys())


def _event(clock: Clock, action: str, order: Order, actor: Actor, *, reason: str = "",
           data: dict[str, object] | None = None) -> dict[str, object]:
    return event_values(clock, action, actor_id=actor.id, actor_kind=actor.kind, device_id=actor.device_id,
                        entity="order", entity_id=order.id, reason=reason, data=data)


def _rebounds(session: Session, clock: Clock, findings: list[Finding], pol: Policy) -> dict[uuid.UUID, Order]:
    """Per finding, the order closed within the rebound period for the same problem at the
    same place, if any: the most recently closed."""
    placed = [f for f in findings if f.unit_id is not None]
    if pol.rebound_days <= 0 or not placed:
        return {}
    since = clock.now() - dt.timedelta(days=pol.rebound_days)
    candidates = session.execute(
        sa.select(Order, Finding.item_id, Finding.category, Finding.latitude, Finding.longitude)
        .join(Finding, Finding.id == Order.finding_id)
        .where(Order.unit_id.in_({f.unit_id for f in placed}), Order.status == OrderStatus.CLOSED,
               Order.closed_at >= since)
        .order_by(Order.closed_at.desc())).all()
    by_unit: dict[int, list[tuple[Order, int | None, str, float | None, float | None]]] = {}
    for candidate in candidates:
        by_unit.setdefault(candidate[0].unit_id, []).append(tuple(candidate))  # type: ignore[arg-type]
    found: dict[uuid.UUID, Order] = {}
    for finding in placed:
        for order, item_id, category, lat, lon in by_unit.get(finding.unit_id, []):  # type: ignore[arg-type]
            same_problem = item_id == finding.item_id if finding.item_id is not None else category == finding.category
            if (order.finding_id != finding.id and same_problem
                    and _near(finding, lat, lon, pol.rebound_distance_m)):
                found[finding.id] = order
                break
    return found


def _near(finding: Finding, lat: float | None, lon: float | None, limit_m: float) -> bool:
    # Without coordinates on both sides, the same unit and the same problem is the same place.
    if None in (finding.latitude, finding.longitude, lat, lon):
        return True
    from media.geo import distance_m

    return distance_m(finding.latitude, finding.longitude, lat, lon) <= limit_m  # type: ignore[arg-type]


def issue_round_findings(session: Session, clock: Clock, round_: Round, user: User) -> int:
    """Publish an unannounced round's findings to the units: their orders' clocks start now."""
    _staff_only(Actor(user), "issue a round's findings")
    if round_.findings_issued_at is not None:
        raise IllegalTransition("The round's findings were issued already.")
    round_.findings_issued_at = clock.now()
    started = 0
    rows = session.execute(sa.select(Order, Finding).join(Finding, Finding.id == Order.finding_id)
                           .where(Finding.round_id == round_.id, Order.status == OrderStatus.ISSUED,
                                  Order.due_at.is_(None))).all()
    for order, finding in rows:
        _start(session, clock, order, finding, clock.now())
        order.version += 1
        notices.issued(session, clock, order, finding)
        started += 1
    record(session, clock, "round.findings_issued", actor_id=user.id, entity="round", entity_id=round_.id,
           data={"orders_started": started})
    return started


# -- the unit's steps --------------------------------------------------------------------------

def respond(session: Session, clock: Clock, order: Order, user: User, *, response_id: uuid.UUID,
            measures: str, device_id: uuid.UUID | None = None) -> Response:
    """The unit's answer (整改反馈): measures taken; after-photos are attached to the response.

    Answering stops the escalation clock; an answer after the deadline is taken and marked late.
    """
    if user.role is Role.LIAISON and user.unit_id != order.unit_id:
        raise Forbidden("Only the unit the order is addressed to may respond.")
    if user.role is Role.INSPECTOR:
        raise Forbidden("Inspectors verify responses; the unit responds.")
    _check(order, "respond")
    now = clock.now()
    late = order.due_at is not None and now > order.due_at
    response = Response(id=response_id, order_id=order.id, unit_id=order.unit_id, responder_id=user.id,
                        device_id=device_id, measures=measures, responded_at=now, late=late)
    session.add(response)
    order.status = OrderStatus.RESPONDED
    stop_clock(order)
    order.version += 1
    session.flush()
    _withdraw_requests(session, clock, order, "已反馈整改情况")
    _log(session, clock, "order.responded", order, Actor(user, device_id),
         data={"response_id": str(response_id), "late": late})
    notices.to_reporter(session, clock, order, _finding(session, order), late=late)
    return response


def request(session: Session, clock: Clock, order: Order, user: User, *, kind: RequestKind, reason: str,
            extra: Limit | None = None, review_at: dt.datetime | None = None,
            request_id: uuid.UUID | None = None, device_id: uuid.UUID | None = None) -> OrderRequest:
    """The unit asks for 延期, 回退, 挂账 or 作废; a supervisor decides. The clock keeps running."""
    if user.role is Role.INSPECTOR or (user.role is Role.LIAISON and user.unit_id != order.unit_id):
        raise Forbidden("Only the unit the order is addressed to may make a request about it.")
    _check(order, "request")
    if not reason.strip():
        raise ValidationFailed("A request needs a reason.", errors=[{"field": "reason", "message": "required"}])
    if kind is RequestKind.EXTENSION and extra is None:
        raise ValidationFailed("An extension request names the time asked for.",
                               errors=[{"field": "extra", "message": "required for an extension"}])
    if kind is RequestKind.PARK and (review_at is None or review_at <= clock.now()):
        raise ValidationFailed("A parking request names a future review date.",
                               errors=[{"field": "review_at", "message": "required, in the future"}])
    pending = session.scalar(sa.select(OrderRequest).where(
        OrderRequest.order_id == order.id, OrderRequest.kind == kind, OrderRequest.status == RequestStatus.PENDING))
    if pending is not None:
        raise Conflict(f"A {kind.value} request for this order is already waiting for a decision.")
    req = OrderRequest(id=request_id or uuid.uuid4(), order_id=order.id, kind=kind, reason=reason,
                       extra=str(extra) if extra is not None else "", review_at=review_at, requested_by=user.id,
                       requested_at=clock.now(), device_id=device_id)
    session.add(req)
    order.version += 1
    _log(session, clock, f"order.request.{kind.value}", order, Actor(user, device_id), reason=reason,
         data={"request_id": str(req.id), "extra": req.extra, "review_at": _iso(review_at)})
    notices.to_supervisors(session, clock, order, _finding(session, order), kind=f"request.{kind.value}",
                           extra={"request_id": str(req.id), "reason": reason})
    return req


def decide(session: Session, clock: Clock, req: OrderRequest, user: User, *, approve: bool, note: str = "",
           device_id: uuid.UUID | None = None) -> Order:
    """A supervisor approves or refuses a unit's request."""
    actor = Actor(user, device_id)
    _staff_only(actor, "decide on a unit's request")
    if req.status is not RequestStatus.PENDING:
        raise IllegalTransition(f"The request was {req.status.value} already.")
    order = session.get(Order, req.order_id)
    assert order is not None
    unit_id = order.unit_id  # an approved 回退 takes the order away from the unit that asked
    req.status = RequestStatus.APPROVED if approve else RequestStatus.REFUSED
    req.decided_by, req.decided_at, req.decision_note = user.id, clock.now(), note
    _log(session, clock, f"order.request.{req.kind.value}.{req.status.value}", order, actor, reason=note,
         data={"request_id": str(req.id)})
    if approve:
        if req.kind is RequestKind.EXTENSION:
            extend(session, clock, order, user, extra=Limit.parse(req.extra), reason=req.reason, device_id=device_id)
        elif req.kind is RequestKind.RETURN:
            send_back(session, clock, order, actor, reason=req.reason)
        elif req.kind is RequestKind.PARK:
            assert req.review_at is not None
            park(session, clock, order, user, review_at=req.review_at, reason=req.reason, device_id=device_id)
        else:
            void(session, clock, order, user, reason=req.reason, device_id=device_id)
    else:
        order.version += 1
    notices.to_unit(session, clock, order, _finding(session, order), kind=f"request.{req.status.value}",
                    extra={"request_kind": req.kind.value, "note": note}, unit_id=unit_id)
    return order


def _withdraw_requests(session: Session, clock: Clock, order: Order, why: str) -> None:
    for req in session.scalars(sa.select(OrderRequest).where(OrderRequest.order_id == order.id,
                                                             OrderRequest.status == RequestStatus.PENDING)):
        req.status = RequestStatus.WITHDRAWN
        req.decided_at, req.decision_note = clock.now(), why


# -- verification ------------------------------------------------------------------------------

def _last_responder(session: Session, order: Order) -> int | None:
    return session.scalar(sa.select(Response.responder_id).where(Response.order_id == order.id)
                          .order_by(Response.responded_at.desc()).limit(1))


def _check_verifier(session: Session, order: Order, user: User) -> None:
    if user.role is Role.LIAISON:
        raise Forbidden("A unit cannot verify its own rectification.")
    if _last_responder(session, order) == user.id:
        raise Forbidden("The person who responded cannot verify the response.")


def verify(session: Session, clock: Clock, order: Order, user: User, *, note: str = "",
           device_id: uuid.UUID | None = None) -> None:
    """复查 passed: the order is closed (销号). Never by the person who responded."""
    _check_verifier(session, order, user)
    _check(order, "verify")
    order.status = OrderStatus.CLOSED
    stop_clock(order)
    order.closed_at = clock.now()
    order.version += 1
    _log(session, clock, "order.closed", order, Actor(user, device_id), reason=note)
    notices.to_unit(session, clock, order, _finding(session, order), kind="order.closed", extra={"note": note})


def reject(session: Session, clock: Clock, order: Order, user: User, *, reason: str,
           device_id: uuid.UUID | None = None) -> None:
    """复查 failed (退回返工): back to the unit with the reason and a new deadline at its level."""
    _check_verifier(session, order, user)
    _check(order, "reject")
    if not reason.strip():
        raise ValidationFailed("A rejection needs a reason.", errors=[{"field": "reason", "message": "required"}])
    finding = _finding(session, order)
    order.status = OrderStatus.ISSUED
    _start(session, clock, order, finding, clock.now())
    order.version += 1
    _log(session, clock, "order.rejected", order, Actor(user, device_id), reason=reason,
         data={"due_at": _iso(order.due_at)})
    notices.to_unit(session, clock, order, finding, kind="order.rejected", extra={"reason": reason})


# -- the supervisor's steps --------------------------------------------------------------------

def assign(session: Session, clock: Clock, order: Order, user: User, *, unit_id: int, reason: str = "",
           device_id: uuid.UUID | None = None) -> None:
    """Send a triage order to its unit, or reassign (改派) an issued one; the clock starts anew."""
    actor = Actor(user, device_id)
    _staff_only(actor, "assign an order")
    _check(order, "assign")
    if order.unit_id == unit_id and order.status is OrderStatus.ISSUED:
        raise IllegalTransition("The order is with that unit already.")
    previous = order.unit_id
    finding = _finding(session, order)
    order.unit_id, order.status, order.needs_supervisor = unit_id, OrderStatus.ISSUED, False
    _withdraw_requests(session, clock, order, "已改派")
    _start(session, clock, order, finding, clock.now())
    order.version += 1
    _log(session, clock, "order.assigned", order, actor, reason=reason,
         data={"from_unit": previous, "to_unit": unit_id, "due_at": _iso(order.due_at)})
    notices.issued(session, clock, order, finding)


def send_back(session: Session, clock: Clock, order: Order, actor: Actor, *, reason: str) -> None:
    """回退 approved: back to triage; bounced too often, it waits for a supervisor's decision."""
    finding = _finding(session, order)
    pol = _policy(session, order)
    previous = order.unit_id
    order.bounces += 1
    order.unit_id, order.status = None, OrderStatus.TRIAGE
    clear_deadline(order)
    order.started_at = None
    order.needs_supervisor = order.bounces > pol.max_bounces
    order.version += 1
    _log(session, clock, "order.returned", order, actor, reason=reason,
         data={"from_unit": previous, "bounces": order.bounces, "needs_supervisor": order.needs_supervisor})
    notices.to_supervisors(session, clock, order, finding,
                           kind="order.bounced" if order.needs_supervisor else "order.triage",
                           extra={"bounces": order.bounces})


def extend(session: Session, clock: Clock, order: Order, user: User, *, extra: Limit | None = None,
           until: dt.datetime | None = None, reason: str, device_id: uuid.UUID | None = None) -> None:
    """延期: the deadline moves by ``extra`` working time, or to ``until``."""
    actor = Actor(user, device_id)
    _staff_only(actor, "extend a deadline")
    _check(order, "extend")
    if (extra is None) == (until is None):
        raise ValidationFailed("Name either the extra time or the new deadline.",
                               errors=[{"field": "extra", "message": "give exactly one of extra and until"}])
    assert order.due_at is not None
    previous = order.due_at
    if extra is not None:
        deadline = calendar(session).deadline(order.due_at, extra)
    else:
        assert until is not None
        if until <= order.due_at:
            raise ValidationFailed("An extension moves the deadline later.",
                                   errors=[{"field": "until", "message": "must be after the current deadline"}])
        deadline = Deadline(until, order.due_provisional)
    move_deadline(session, order, deadline, now=clock.now())
    order.version += 1
    _log(session, clock, "order.extended", order, actor, reason=reason,
         data={"from": _iso(previous), "to": _iso(order.due_at)})
    notices.to_unit(session, clock, order, _finding(session, order), kind="order.extended")


@dataclass(frozen=True)
class Climb:
    """What one escalation step writes besides the order: its ladder row and its audit event."""

    escalation: dict[str, object]
    event: dict[str, object]


def climb(session: Session, clock: Clock, order: Order, finding: Finding, actor: Actor, *, at: dt.datetime,
          reason: str = "", summary: notices.Summary | None = None) -> Climb:
    """Take ``order`` one level up with a new deadline from ``at``; queue its notices.

    Changes the order's fields and returns the rows the step adds, unwritten, so the
    scheduler's sweep can write thousands at once; :func:`escalate` writes them for one.
    With a ``summary``, the people above the unit hear of the step in it, not one by one.
    """
    _staff_only(actor, "escalate an order")
    _check(order, "escalate")
    pol = _policy(session, order)
    if order.level >= pol.top:
        raise IllegalTransition(f"The order is at the top level ({pol.level(pol.top).name}) already.")
    previous_due, previous_provisional = order.due_at, order.due_provisional
    # Late when the deadline has passed at the step: the scheduler's ``at`` is the missed
    # deadline itself; a supervisor's is now, possibly well before it.
    overdue = previous_due is not None and previous_due <= at
    order.level += 1
    set_deadline(session, order, at, _limit(session, order, finding), now=clock.now())
    if previous_due is not None and order.due_at is not None and order.due_at < previous_due:
        # A shorter limit from now would take back time the unit was given (an approved
        # 延期): escalating raises the level and the audience, it never shortens the deadline.
        move_deadline(session, order, Deadline(previous_due, previous_provisional), now=clock.now())
    order.version += 1
    notices.escalated(session, clock, order, finding, summary, overdue=overdue, reason=reason)
    return Climb(
        escalation={"order_id": order.id, "level": order.level, "escalated_at": at, "previous_due_at": previous_due,
                    "due_at": order.due_at, "escalated_by": actor.id, "reason": reason},
        event=event_values(clock, "order.escalated", actor_id=actor.id, actor_kind=actor.kind,
                           device_id=actor.device_id, entity="order", entity_id=order.id,
                           reason=reason or ("逾期未整改" if overdue else "督办"),
                           data={"level": order.level, "due_at": _iso(order.due_at),
                                 "missed": _iso(previous_due) if overdue else None,
                                 "previous_due_at": _iso(previous_due), "overdue": overdue}))


def escalate(session: Session, clock: Clock, order: Order, actor: Actor, *, at: dt.datetime | None = None,
             reason: str = "") -> Escalation:
    """One level up the ladder (by hand, or for one order); its new limit runs from ``at``.

    The escalation row's key (order, level) makes a second attempt at the same step fail, so
    two schedulers racing each other escalate once.
    """
    step = climb(session, clock, order, _finding(session, order), actor, at=at or clock.now(), reason=reason)
    escalation = Escalation(**step.escalation)
    session.add(escalation)
    session.add(AuditEvent(**step.event))
    return escalation


def park(session: Session, clock: Clock, order: Order, user: User, *, review_at: dt.datetime, reason: str,
         device_id: uuid.UUID | None = None) -> None:
    """挂账: into the issue bank until ``review_at``; the office time left is kept, not lost."""
    actor = Actor(user, device_id)
    _staff_only(actor, "park an order")
    _check(order, "park")
    now = clock.now()
    left = max(0.0, calendar(session).working_seconds(now, order.due_at)) if order.due_at and order.due_at > now else 0.0
    order.status, order.paused_remaining_s, order.review_at = OrderStatus.PARKED, left, review_at
    clear_deadline(order)
    order.version += 1
    _log(session, clock, "order.parked", order, actor, reason=reason,
         data={"review_at": _iso(review_at), "remaining_s": left})


def resume(session: Session, clock: Clock, order: Order, user: User, *, reason: str = "",
           device_id: uuid.UUID | None = None) -> None:
    """挂账恢复: the clock runs again with the time that was left when it was parked."""
    actor = Actor(user, device_id)
    _staff_only(actor, "resume a parked order")
    _check(order, "resume")
    now = clock.now()
    deadline = calendar(session).add_working_seconds(now, order.paused_remaining_s or 0.0)
    order.status, order.review_at, order.paused_remaining_s = OrderStatus.ISSUED, None, None
    order.started_at = now
    move_deadline(session, order, deadline, now=now)
    order.version += 1
    _log(session, clock, "order.resumed", order, actor, reason=reason, data={"due_at": _iso(order.due_at)})
    notices.to_unit(session, clock, order, _finding(session, order), kind="order.resumed")


def void(session: Session, clock: Clock, order: Order, user: User | None, *, reason: str,
         device_id: uuid.UUID | None = None) -> None:
    """作废: a supervisor's decision, or the finding withdrawn by its reporter (user None)."""
    actor = Actor(user, device_id)
    _staff_only(actor, "void an order")
    _check(order, "void")
    order.status = OrderStatus.VOIDED
    clear_deadline(order)
    order.version += 1
    _withdraw_requests(session, clock, order, "已作废")
    _log(session, clock, "order.voided", order, actor, reason=reason)


def void_for_finding(session: Session, clock: Clock, finding: Finding, *, actor_id: int | None,
                     device_id: uuid.UUID | None = None) -> None:
    """A finding withdrawn by its reporter takes its open orders with it (作废)."""
    for order in session.scalars(sa.select(Order).where(
            Order.finding_id == finding.id, Order.status.not_in([OrderStatus.CLOSED, OrderStatus.VOIDED]))):
        order.status = OrderStatus.VOIDED
        clear_deadline(order)
        order.version += 1
        record(session, clock, "order.voided", actor_id=actor_id, device_id=device_id, entity="order",
               entity_id=order.id, reason="finding deleted")


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
