"""Orders raised straight through the services, in an app context, with a clock the test moves."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Callable, Iterator

import pytest
import sqlalchemy as sa

from server.auth.models import Role
from server.findings.models import Finding, FindingStatus, Severity
from server.notifications.models import Notification
from server.orders import services
from server.orders.models import Order
from server.units.models import ContactRole, UnitContact
from tests import factories

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def local(*args: int) -> dt.datetime:
    """A wall-clock time in the campaign's zone (Asia/Shanghai has no summer time)."""
    return dt.datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def app_context(app) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """For tests that call the services directly. Not for HTTP tests: requests made inside it
    would share its ``g`` (and so the first request's user) instead of getting their own."""
    with app.app_context():
        yield


@pytest.fixture
def head(session, hasher, world):  # type: ignore[no-untyped-def]
    """The 分管领导 of unit 0, with a login, so escalations reach them."""
    user = factories.user(session, hasher, Role.LIAISON, campaign=world.campaign, unit=world.units[0],
                          username="head0", display_name="王局长")
    session.add(UnitContact(unit_id=world.units[0].id, role=ContactRole.HEAD, name="王局长", user_id=user.id))
    session.commit()
    return user


@pytest.fixture
def raise_order(app, session, clock, world) -> Callable[..., Order]:  # type: ignore[no-untyped-def]
    """``raise_order(unit=0, category=..., severity=...)``: a finding and its order, committed."""
    def make(unit: int | None = 0, *, category: str = "环境卫生", severity: str = "normal",
             latitude: float | None = None, longitude: float | None = None, round_id: int | None = None,
             item_id: int | None = None, commit: bool = True) -> Order:
        finding = Finding(id=uuid.uuid4(), campaign_id=world.campaign.id,
                          unit_id=world.units[unit].id if unit is not None else None, round_id=round_id,
                          item_id=item_id, category=category, description="办公楼西侧杂物堆积墙边",
                          severity=Severity(severity), status=FindingStatus.COMPLETE, latitude=latitude,
                          longitude=longitude, reported_by=world.users["alice"].id, observed_at=clock.now(),
                          version=1, field_meta={})
        session.add(finding)
        session.flush()
        with app.app_context():
            order = services.raise_order(session, clock, finding, actor_id=world.users["alice"].id)
            if commit:
                session.commit()
        return order

    return make


def notices(session, user_id: int | None = None, kind: str | None = None) -> list[Notification]:  # type: ignore[no-untyped-def]
    stmt = sa.select(Notification).order_by(Notification.id)
    if user_id is not None:
        stmt = stmt.where(Notification.user_id == user_id)
    if kind is not None:
        stmt = stmt.where(Notification.kind == kind)
    return list(session.scalars(stmt))


def as_local(value: dt.datetime | None) -> Any:
    return value.astimezone(SHANGHAI) if value is not None else None
