"""Loading a year's official holiday schedule puts open orders' provisional (暂定) deadlines on
it: the deadline is recomputed, no longer 暂定, and the unit is told when it moved."""

from __future__ import annotations

import sqlalchemy as sa

from server.audit.models import AuditEvent
from server.auth.models import Role
from server.orders.models import Order
from tests import factories
from tests.factories import PASSWORD
from tests.orders.conftest import as_local, local, notices
from tests.worktime.test_api import BODY_2027


def _admin(client, session, hasher):  # type: ignore[no-untyped-def]
    factories.user(session, hasher, Role.ADMIN, username="root")
    session.commit()
    response = client.post("/api/v1/auth/login", json={
        "username": "root", "password": PASSWORD,
        "device": {"name": "测试机", "platform": "android", "app_version": "1.0"}})
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def test_loading_a_schedule_moves_a_provisional_deadline_and_tells_the_unit(client, session, hasher, clock, world,
                                                                              raise_order):
    # The order's five working days from the last Wednesday of 2026 run into 2027, whose
    # schedule is still the package's estimate: 元旦 on Friday the 1st only.
    clock.set(local(2026, 12, 30, 10, 0))
    order = raise_order(0)
    # Raised earlier in December, with a deadline inside 2026: nothing to recompute.
    clock.set(local(2026, 12, 1, 10, 0))
    early = raise_order(1)
    early_due, early_version = early.due_at, early.version
    assert order.due_provisional and not early.due_provisional
    before, version = as_local(order.due_at), order.version
    assert before.date().isoformat() == "2027-01-07"

    # The official notice gives Monday the 4th off as well.
    clock.set(local(2026, 12, 30, 11, 0))
    admin = _admin(client, session, hasher)
    response = client.put("/api/v1/holidays/2027", json=BODY_2027, headers=admin)
    assert response.status_code == 200, response.get_json()

    session.expire_all()
    order, early = session.get(Order, order.id), session.get(Order, early.id)
    assert not order.due_provisional and order.version == version + 1
    assert as_local(order.due_at) == before.replace(day=8)
    assert order.escalate_at == order.due_at
    assert (early.due_at, early.version) == (early_due, early_version)

    [told] = notices(session, world.users["liaison"].id, "order.rescheduled")
    assert "（暂定）调整为" in told.body and "1月8日" in told.body
    assert told.data["order_id"] == str(order.id)
    assert notices(session, world.users["liaison2"].id, "order.rescheduled") == []
    [event] = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "order.rescheduled"))
    assert event.entity_id == str(order.id)


def test_a_deadline_already_on_the_official_days_is_confirmed_without_a_notice(client, session, hasher, clock,
                                                                                 world, raise_order):
    clock.set(local(2026, 12, 30, 10, 0))
    admin = _admin(client, session, hasher)
    order = raise_order(0)
    due = order.due_at
    body = {**BODY_2027, "days": [d for d in BODY_2027["days"] if d["date"] != "2027-01-04"]}
    assert client.put("/api/v1/holidays/2027", json=body, headers=admin).status_code == 200
    session.expire_all()
    order = session.get(Order, order.id)
    assert (order.due_at, order.due_provisional) == (due, False)
    assert notices(session, kind="order.rescheduled") == []
