"""The order state machine: requests (延期 / 回退 / 挂账 / 作废), verification, rebounds, refusals."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from server.audit.models import ActorKind, AuditEvent
from server.errors import Forbidden
from server.orders import services
from server.orders.escalation import escalate_overdue
from server.orders.models import OrderStatus, RequestKind, RequestStatus
from server.orders.services import IllegalTransition
from server.worktime.limits import Limit
from tests.orders.conftest import as_local, local, notices

pytestmark = pytest.mark.usefixtures("app_context")


def test_a_parked_order_does_not_escalate_and_resumes_with_the_time_that_was_left(session, clock, world,
                                                                                  raise_order):
    clock.set(local(2026, 11, 23, 9, 0))  # Monday
    order = raise_order(severity="serious")  # 3 working days: Thursday 17:30
    clock.set(local(2026, 11, 25, 17, 30))  # Wednesday evening: Thursday is left
    req = services.request(session, clock, order, world.users["liaison"], kind=RequestKind.PARK,
                           reason="需市政工程配合，短期无法整改", review_at=local(2026, 12, 20, 9, 0))
    services.decide(session, clock, req, world.users["sup"], approve=True, note="同意挂账")
    session.commit()
    assert order.status is OrderStatus.PARKED and order.due_at is None
    assert order.paused_remaining_s == pytest.approx(7 * 3600)  # one working day of office time

    clock.set(local(2026, 12, 15, 9, 0))  # weeks later: nothing escalates while parked
    assert escalate_overdue(session, clock).steps == 0
    services.resume(session, clock, order, world.users["sup"], reason="工程已完工")
    session.commit()
    assert order.status is OrderStatus.ISSUED
    assert as_local(order.due_at) == local(2026, 12, 15, 17, 30)  # the one day left, from now
    clock.set(local(2026, 12, 15, 17, 31))
    assert escalate_overdue(session, clock).steps == 1


def test_a_return_goes_to_triage_and_past_the_bounce_limit_to_a_supervisor(session, clock, world, raise_order):
    order = raise_order()
    sup = world.users["sup"]
    for bounce, liaison, next_unit in ((1, "liaison", 1), (2, "liaison2", 0), (3, "liaison", 1)):
        req = services.request(session, clock, order, world.users[liaison], kind=RequestKind.RETURN,
                               reason="不属于本单位责任区")
        services.decide(session, clock, req, sup, approve=True)
        session.commit()
        assert order.status is OrderStatus.TRIAGE and order.unit_id is None and order.due_at is None
        assert order.bounces == bounce
        # The default policy sends an order bounced more than twice to a supervisor's decision.
        assert order.needs_supervisor is (bounce > 2)
        if bounce <= 2:
            services.assign(session, clock, order, sup, unit_id=world.units[next_unit].id, reason="改派")
            session.commit()
            assert order.status is OrderStatus.ISSUED and order.due_at is not None
    assert len(notices(session, sup.id, "order.bounced")) == 1


def test_an_extension_request_approved_moves_the_deadline_and_a_refused_one_does_not(session, clock, world,
                                                                                     raise_order):
    clock.set(local(2026, 11, 23, 9, 0))
    order = raise_order()
    due = order.due_at
    req = services.request(session, clock, order, world.users["liaison"], kind=RequestKind.EXTENSION,
                           reason="需采购材料", extra=Limit.parse("2wd"))
    with pytest.raises(Exception, match="already waiting"):
        services.request(session, clock, order, world.users["liaison"], kind=RequestKind.EXTENSION,
                         reason="再次申请", extra=Limit.parse("2wd"))
    services.decide(session, clock, req, world.users["sup"], approve=False, note="普通案件不予延期")
    session.commit()
    assert order.due_at == due and req.status is RequestStatus.REFUSED
    again = services.request(session, clock, order, world.users["liaison"], kind=RequestKind.EXTENSION,
                             reason="材料到货延迟，附采购单", extra=Limit.parse("2wd"))
    services.decide(session, clock, again, world.users["sup"], approve=True)
    session.commit()
    assert as_local(order.due_at) == as_local(due) + dt.timedelta(days=2)  # Monday → Wednesday (no holiday)
    assert len(notices(session, world.users["liaison"].id, "request.refused")) == 1


def test_a_problem_found_again_at_the_same_place_after_closing_is_a_rebound(session, clock, world, raise_order):
    first = raise_order(latitude=38.29, longitude=109.73)
    services.respond(session, clock, first, world.users["liaison"], response_id=uuid.uuid4(), measures="已清理")
    services.verify(session, clock, first, world.users["alice"], note="复查合格")
    session.commit()
    clock.advance(dt.timedelta(days=10))
    elsewhere = raise_order(latitude=38.30, longitude=109.73)  # about 1.1 km away: another place
    again = raise_order(latitude=38.29005, longitude=109.73)  # a few metres away
    assert elsewhere.rebound_of_id is None
    assert again.rebound_of_id == first.id
    assert session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "order.rebound",
                                                      AuditEvent.entity_id == str(again.id))) is not None
    clock.advance(dt.timedelta(days=40))  # past the 30-day rebound period
    assert raise_order(latitude=38.29, longitude=109.73).rebound_of_id is None


def test_illegal_steps_are_refused_and_change_nothing(session, clock, world, raise_order):
    order = raise_order()
    liaison, other_liaison, alice = world.users["liaison"], world.users["liaison2"], world.users["alice"]
    with pytest.raises(Forbidden):
        services.respond(session, clock, order, other_liaison, response_id=uuid.uuid4(), measures="不是我们的")
    with pytest.raises(IllegalTransition):
        services.verify(session, clock, order, alice)  # nothing to verify yet
    services.respond(session, clock, order, world.users["sup"], response_id=uuid.uuid4(), measures="代为反馈")
    with pytest.raises(Forbidden):
        services.verify(session, clock, order, world.users["sup"])  # the responder verifying themself
    with pytest.raises(Forbidden):
        services.verify(session, clock, order, liaison)  # a unit never verifies its own work
    services.verify(session, clock, order, alice)
    session.commit()
    version = order.version
    with pytest.raises(IllegalTransition):
        services.verify(session, clock, order, alice)
    with pytest.raises(IllegalTransition):
        services.reject(session, clock, order, alice, reason="晚了")
    with pytest.raises(Forbidden):
        services.escalate(session, clock, order, services.Actor(alice))
    assert order.status is OrderStatus.CLOSED and order.version == version


def test_every_step_is_an_audit_event_naming_who_and_why(session, clock, world, raise_order):
    order = raise_order(category="暴露垃圾")
    clock.set(order.due_at + dt.timedelta(minutes=1))
    escalate_overdue(session, clock)
    services.extend(session, clock, order, world.users["sup"], extra=Limit.parse("1wd"), reason="雨天")
    session.commit()
    events = session.execute(sa.select(AuditEvent.action, AuditEvent.actor_kind, AuditEvent.actor_id,
                                       AuditEvent.reason).where(AuditEvent.entity_id == str(order.id))
                             .order_by(AuditEvent.occurred_at, AuditEvent.id)).all()
    assert [(a, k) for a, k, _i, _r in events] == [("order.raised", ActorKind.USER),
                                                   ("order.escalated", ActorKind.SCHEDULER),
                                                   ("order.extended", ActorKind.USER)]
    assert events[2].actor_id == world.users["sup"].id and events[2].reason == "雨天"


def test_an_unannounced_rounds_orders_wait_silently_until_its_findings_are_issued(session, clock, world,
                                                                                  raise_order):
    from tests.world import make_secret_round

    secret = make_secret_round(session, world)
    order = raise_order(round_id=secret.id)
    assert order.status is OrderStatus.ISSUED and order.due_at is None
    assert notices(session, world.users["liaison"].id) == []
    clock.advance(dt.timedelta(days=30))
    assert escalate_overdue(session, clock).steps == 0
    with pytest.raises(Forbidden):
        services.issue_round_findings(session, clock, secret, world.users["alice"])
    assert services.issue_round_findings(session, clock, secret, world.users["sup"]) == 1
    session.commit()
    assert order.started_at == clock.now() and order.due_at > clock.now()
    assert len(notices(session, world.users["liaison"].id, "order.issued")) == 1


def test_orders_raised_in_bulk_in_a_savepoint_since_rolled_back_announce_nothing(session, clock, world):
    """A bulk push whose savepoint fails falls back to the careful path: the orders it had raised
    are gone, and so must be their notices."""
    from server.db import insert_rows, unattached, with_defaults
    from server.findings.models import Finding, FindingStatus, Severity

    row = with_defaults(Finding.__table__, {
        "id": uuid.uuid4(), "campaign_id": world.campaign.id, "unit_id": world.units[0].id, "category": "环境卫生",
        "description": "门前堆物", "severity": Severity.NORMAL, "status": FindingStatus.COMPLETE,
        "reported_by": world.users["alice"].id, "observed_at": clock.now(), "version": 1, "field_meta": {}})
    attempt = session.begin_nested()
    insert_rows(session, Finding.__table__, [row])
    raised = services.raise_orders(session, clock, [unattached(Finding, row)], actor_id=world.users["alice"].id,
                                   device_id=None, in_bulk=True)
    assert raised[0].status is OrderStatus.ISSUED
    attempt.rollback()
    session.commit()
    assert notices(session, kind="order.issued") == []
