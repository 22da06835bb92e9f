"""What the dashboard and the map show, read within the caller's scope (server/auth/scope.py).

Definitions, for the orders the caller sees (voided ones left out):

- open: triage, issued, responded or parked; overdue: issued and past its deadline now (as the
  queue's filter); closed: 销号.
- on-time rate of a unit: of its closed orders, the share whose last answer came by the deadline.
- rectification rate (整改率) of a unit: closed orders over all its orders.
- overdue ageing: how long ago the deadline of each overdue order passed, in buckets.
- the week's trend: orders issued and closed on each of the last seven days (campaign time zone).
- rebound (反弹): orders raised because a closed problem came back at the same place.

One read of a few columns per order, counted here: a dashboard is read a few times a day, and
one pass makes every breakdown agree with every other.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.auth.scope import Reach, visible_orders
from server.findings.models import Finding
from server.orders.models import OPEN_STATUSES, Order, OrderStatus, Response
from server.units.models import Unit, Zone

#: Overdue ageing buckets: (upper bound in days, label key).
AGEING = ((1, "age.1d"), (3, "age.3d"), (7, "age.7d"), (None, "age.more"))
#: Most points on the map; the most urgent (highest level, nearest deadline) first.
MAP_POINTS = 2000


@dataclass
class Tally:
    open: int = 0
    overdue: int = 0
    closed: int = 0
    total: int = 0
    on_time: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.closed if self.closed else None

    @property
    def rectification_rate(self) -> float | None:
        return self.closed / self.total if self.total else None


@dataclass
class Dashboard:
    totals: Tally = field(default_factory=Tally)
    by_category: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_unit: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_level: dict[int, Tally] = field(default_factory=lambda: defaultdict(Tally))
    ageing: Counter[str] = field(default_factory=Counter)
    week: list[tuple[dt.date, int, int]] = field(default_factory=list)
    rebounds: int = 0


def _bucket(days: float) -> str:
    for bound, key in AGEING:
        if bound is None or days <= bound:
            return key
    raise AssertionError("the last bucket has no bound")


def dashboard(session: Session, reach: Reach, *, now: dt.datetime, tz: str) -> Dashboard:
    late_answer = (sa.select(Response.late).where(Response.order_id == Order.id)
                   .order_by(Response.responded_at.desc()).limit(1).scalar_subquery())
    rows = session.execute(
        visible_orders(reach).with_only_columns(Order.status, Order.level, Order.due_at, Order.issued_at,
                                                Order.closed_at, Order.rebound_of_id, Finding.category,
                                                Unit.name, late_answer)
        .outerjoin(Unit, Unit.id == Order.unit_id).where(Order.status != OrderStatus.VOIDED)).all()
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    days = [today - dt.timedelta(days=n) for n in range(6, -1, -1)]
    issued: Counter[dt.date] = Counter()
    closed: Counter[dt.date] = Counter()
    result = Dashboard()
    for status, level, due_at, issued_at, closed_at, rebound_of, category, unit_name, late in rows:
        overdue = status is OrderStatus.ISSUED and due_at is not None and due_at < now
        for tally in (result.totals, result.by_category[category], result.by_unit[unit_name or "—"],
                      result.by_level[level]):
            tally.total += 1
            tally.open += status in OPEN_STATUSES
            tally.overdue += overdue
            tally.closed += status is OrderStatus.CLOSED
            tally.on_time += status is OrderStatus.CLOSED and not late
        if overdue:
            result.ageing[_bucket((now - due_at).total_seconds() / 86400)] += 1
        result.rebounds += rebound_of is not None
        issued[issued_at.astimezone(zone).date()] += 1
        if closed_at is not None:
            closed[closed_at.astimezone(zone).date()] += 1
    result.week = [(day, issued[day], closed[day]) for day in days]
    return result


def map_points(session: Session, reach: Reach, campaign_id: int | None) -> tuple[list[Zone], list[Any]]:
    """The zones of the caller's campaign and the open orders that have a place, most urgent first."""
    zones = list(session.scalars(sa.select(Zone).where(Zone.campaign_id == campaign_id).order_by(Zone.id))) \
        if campaign_id is not None else []
    far = dt.datetime(9999, 1, 1, tzinfo=dt.timezone.utc)
    points = session.execute(
        visible_orders(reach).add_columns(Finding).where(Order.status.in_(OPEN_STATUSES),
                                                         Finding.longitude.is_not(None), Finding.latitude.is_not(None))
        .order_by(Order.level.desc(), sa.func.coalesce(Order.due_at, far)).limit(MAP_POINTS)).all()
    return zones, points
