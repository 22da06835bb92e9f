"""The notices issue 16 found missing, and a manual escalation that never shortens a deadline
nor calls an order late that is not."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from server.orders import services
from server.orders.models import RequestKind
from server.worktime.limits import Limit
from tests.orders.conftest import as_local, local, notices

pytestmark = pytest.mark.usefixtures("app_context")


def test_the_inspector_who_found_it_is_told_to_recheck_when_the_unit_responds(session, clock, world,
                                                                              raise_order):
    order = raise_order()
    assert notices(session, world.users["alice"].id, "order.responded") == []
    clock.set(order.due_at + dt.timedelta(hours=1))
    services.respond(session, clock, order, world.users["liaison"], response_id=uuid.uuid4(), measures="已清理")
    session.commit()
    [notice] = notices(session, world.users["alice"].id, "order.responded")
    assert "请复查" in notice.body and "逾期反馈" in notice.body and notice.title.startswith("【待复查】")
    assert notices(session, world.users["bob"].id, "order.responded") == []  # not his finding


def test_the_unit_is_told_when_its_order_is_closed(session, clock, world, raise_order):
    order = raise_order()
    services.respond(session, clock, order, world.users["liaison"], response_id=uuid.uuid4(), measures="已清理")
    services.verify(session, clock, order, world.users["alice"], note="复查合格")
    session.commit()
    [notice] = notices(session, world.users["liaison"].id, "order.closed")
    assert notice.title.startswith("【已销号】") and "复查合格" in notice.body
    assert notices(session, world.users["liaison2"].id, "order.closed") == []


def test_the_unit_is_told_when_its_return_request_is_approved(session, clock, world, raise_order):
    order = raise_order()
    req = services.request(session, clock, order, world.users["liaison"], kind=RequestKind.RETURN,
                           reason="该路段不属我单位")
    services.decide(session, clock, req, world.users["sup"], approve=True, note="同意回退，另行分派")
    session.commit()
    assert order.unit_id is None  # back to triage: the unit is no longer the order's
    [notice] = notices(session, world.users["liaison"].id, "request.approved")
    assert world.units[0].name in notice.title and "回退申请已同意" in notice.body


def test_a_manual_escalation_after_an_extension_keeps_the_deadline_and_says_nothing_of_lateness(
        session, clock, world, raise_order):
    clock.set(local(2026, 12, 2, 9, 0))
    order = raise_order()
    req = services.request(session, clock, order, world.users["liaison"], kind=RequestKind.EXTENSION,
                           reason="需采购材料", extra=Limit.parse("5wd"))
    services.decide(session, clock, req, world.users["sup"], approve=True)
    session.commit()
    extended = order.due_at
    assert as_local(extended).date() > local(2026, 12, 9).date()

    clock.advance(dt.timedelta(hours=1))
    services.escalate(session, clock, order, services.Actor(world.users["sup"]), reason="领导关注")
    session.commit()
    assert order.level == 2 and order.due_at == extended  # not moved back by the shorter level-2 limit
    assert order.escalate_at == extended
    [notice] = notices(session, world.users["liaison"].id, "order.escalated")
    assert "逾期" not in notice.title + notice.body and "领导关注" in notice.body
    assert notice.data["overdue"] is False


def test_a_missed_deadline_still_escalates_as_overdue_with_a_new_deadline(session, clock, world, raise_order):
    order = raise_order()
    missed = order.due_at
    clock.set(missed + dt.timedelta(hours=2))
    services.escalate(session, clock, order, services.Actor(world.users["sup"]), at=missed)
    session.commit()
    assert order.due_at > missed
    [notice] = notices(session, world.users["liaison"].id, "order.escalated")
    assert "逾期未整改" in notice.title and notice.data["overdue"] is True
