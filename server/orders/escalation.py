"""The scheduler's work on orders: escalate the overdue, remind before deadlines, the morning digest.

Every decision comes from the database and the clock. An order overdue at level 1 when the
scheduler wakes after ten days is walked up the ladder one missed deadline at a time (each
new deadline counted from the one missed), so one run ends where a scheduler that never
stopped would have, with one notice per step. On PostgreSQL the sweep takes the overdue rows
with ``FOR UPDATE SKIP LOCKED``: a second scheduler running at the same moment takes other
rows or none, and the escalation key (order, level) refuses a step taken twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from server.audit.models import AuditEvent
from server.auth.models import Device, Role, User
from server.clock import Clock
from server.db import among, insert_rows, unattached
from server.findings.models import Finding
from server.notifications.services import notify
from server.orders import notices
from server.orders.deadlines import due_reminder
from server.orders.models import Escalation, Order, OrderRequest, OrderStatus, RequestStatus
from server.orders.services import SCHEDULER, climb
from server.sync import feed
from server.sync.models import DevicePush

#: Orders taken per query; bounded so a backlog of a million never loads at once.
BATCH = 1000


def _lock(session: Session, stmt: sa.Select[Any]) -> sa.Select[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return stmt.with_for_update(skip_locked=True, of=Order)
    return stmt


_KEEP = "xuncha.sweep_objects"


@dataclass
class SweepResult:
    orders: int = 0
    steps: int = 0

    def __str__(self) -> str:
        return f"{self.steps} escalation steps on {self.orders} orders"


def escalate_overdue(session: Session, clock: Clock) -> SweepResult:
    """Escalate every order whose deadline passed, as many levels as the clock says.

    The unit's people hear of each order's step; supervisors and leaders get one summary per
    level for the whole run (a Monday-morning sweep must not bury them under notices).

    The steps are the state machine's own (:func:`server.orders.services.climb`), taken on
    copies of the rows; the rows are then written with one statement per table and batch,
    and published to the sync feed from the same copies. Each UPDATE names the version it
    read, so an order changed meanwhile by anyone else is not overwritten: the batch fails
    and the next run takes it again.
    """
    now = clock.now()
    result = SweepResult()
    summary = notices.Summary()
    while True:
        rows = session.execute(_lock(session, sa.select(Order.__table__).where(
            Order.status == OrderStatus.ISSUED, Order.escalate_at <= now)
            .order_by(Order.escalate_at).limit(BATCH))).all()
        if not rows:
            notices.send_summary(session, clock, summary)
            return result
        findings = _findings(session, {row.finding_id for row in rows})
        notices.prefetch_units(session, {row.unit_id for row in rows})
        changed: list[tuple[Order, int]] = []
        escalations: list[dict[str, object]] = []
        events: list[dict[str, object]] = []
        with session.no_autoflush:
            for row in rows:
                order = unattached(Order, row._asdict())
                read_version = order.version
                while order.escalate_at is not None and order.escalate_at <= now:
                    step = climb(session, clock, order, findings[order.finding_id], SCHEDULER, at=order.escalate_at,
                                 summary=summary)
                    escalations.append(step.escalation)
                    events.append(step.event)
                    result.steps += 1
                changed.append((order, read_version))
        _write(session, changed, escalations, events, now)
        result.orders += len(changed)


def _findings(session: Session, ids: set[Any]) -> dict[Any, Finding]:
    """The batch's findings in one Core query, as copies: the sweep only reads them, and the
    sync feed finds them at commit to publish their orders.

    Only the columns the step, its notices and the feed's scope rules read: converting the
    others (photos' times, field metadata) cost a tenth of a sweep. A copy has no other
    attributes, so code that came to need one would fail at once, not read a None.
    """
    table = Finding.__table__
    found = [unattached(Finding, row._asdict())
             for row in session.execute(sa.select(*(table.c[name] for name in _FINDING_COLUMNS))
                                        .where(among(session, table.c.id, ids))).all()]
    feed.read_in_bulk(session, found)
    return {finding.id: finding for finding in found}


_FINDING_COLUMNS = ("id", "campaign_id", "round_id", "unit_id", "category", "description", "location_text",
                    "severity")


#: What a step changes besides the version. Orders escalated together mostly share all of it
#: (their missed deadline, and so the new window), so each group is one UPDATE.
_CHANGED = ("level", "started_at", "due_at", "due_provisional", "time_limit", "escalate_at", "remind_at",
            "reminder_index", "updated_at")
#: Ids per UPDATE: well inside every database's limit on bound values.
_IDS_PER_UPDATE = 500


def _write(session: Session, changed: list[tuple[Order, int]], escalations: list[dict[str, object]],
           events: list[dict[str, object]], now: dt.datetime) -> None:
    table = Order.__table__
    groups: dict[tuple[object, ...], list[Any]] = {}
    for order, read in changed:
        order.updated_at = now
        held = order.__dict__
        # The version read is part of the match: an order someone changed since is not overwritten.
        groups.setdefault((*(held[name] for name in _CHANGED), read, order.version), []).append(order.id)
    for key, all_ids in groups.items():
        values = dict(zip(_CHANGED, key))
        read, version = key[-2:]
        for start in range(0, len(all_ids), _IDS_PER_UPDATE):
            ids = all_ids[start:start + _IDS_PER_UPDATE]
            updated = session.execute(sa.update(table).where(among(session, table.c.id, ids), table.c.version == read)
                                      .values(version=version, **values)).rowcount
            if updated != len(ids):
                raise StaleOrders(f"{len(ids) - updated} orders changed during the sweep; the next run retries.")
    insert_rows(session, Escalation.__table__, escalations)
    insert_rows(session, AuditEvent.__table__, events)
    feed.written_in_bulk(session, [order for order, _read in changed])


class StaleOrders(Exception):
    """Another transaction changed an order between the sweep's read and its write."""


def send_reminders(session: Session, clock: Clock) -> int:
    """Remind the people the policy names when a share of an order's time has passed."""
    now = clock.now()
    sent = 0
    while True:
        batch = session.scalars(_lock(session, sa.select(Order).where(
            Order.status == OrderStatus.ISSUED, Order.remind_at <= now).order_by(Order.remind_at).limit(BATCH))).all()
        if not batch:
            return sent
        findings = _findings(session, {order.finding_id for order in batch})
        notices.prefetch_units(session, {order.unit_id for order in batch})
        session.info.setdefault(_KEEP, []).extend(batch)
        with session.no_autoflush:
            for order in batch:
                fired = due_reminder(session, order, now=now)
                if fired is not None:
                    index, reminder = fired
                    notices.reminder(session, clock, order, findings[order.finding_id], index, reminder.notify)
                    sent += 1
        session.flush()


def _local_day(clock: Clock) -> tuple[dt.date, dt.datetime, dt.datetime]:
    tz = ZoneInfo(current_app.config["TIMEZONE"])
    today = clock.now().astimezone(tz).date()
    start = dt.datetime.combine(today, dt.time(), tz).astimezone(dt.timezone.utc)
    return today, start, start + dt.timedelta(days=1)


def daily_digest(session: Session, clock: Clock) -> int:
    """每日待办 for each campaign's supervisors: what is overdue, due today, waiting for them."""
    now = clock.now()
    today, day_start, day_end = _local_day(clock)
    campaign = Finding.campaign_id
    joined = (sa.select(campaign, sa.func.count()).select_from(Order)
              .join(Finding, Finding.id == Order.finding_id).group_by(campaign))
    counts: dict[str, dict[int, int]] = {
        "overdue": dict(session.execute(joined.where(Order.status == OrderStatus.ISSUED, Order.due_at < now)).all()),
        "due_today": dict(session.execute(joined.where(Order.status == OrderStatus.ISSUED, Order.due_at >= now,
                                                       Order.due_at < day_end)).all()),
        "to_verify": dict(session.execute(joined.where(Order.status == OrderStatus.RESPONDED)).all()),
        "triage": dict(session.execute(joined.where(Order.status == OrderStatus.TRIAGE)).all()),
        "needs_supervisor": dict(session.execute(joined.where(Order.needs_supervisor.is_(True),
                                                              Order.status == OrderStatus.TRIAGE)).all()),
        "parked_review": dict(session.execute(joined.where(Order.status == OrderStatus.PARKED,
                                                           Order.review_at < day_end)).all()),
        "requests": dict(session.execute(
            sa.select(campaign, sa.func.count()).select_from(OrderRequest)
            .join(Order, Order.id == OrderRequest.order_id).join(Finding, Finding.id == Order.finding_id)
            .where(OrderRequest.status == RequestStatus.PENDING).group_by(campaign)).all()),
    }
    labels = {"overdue": "逾期未整改", "due_today": "今日到期", "to_verify": "待复查", "triage": "待分派",
              "needs_supervisor": "多次回退待裁定", "parked_review": "挂账到期待复核", "requests": "待审批申请"}
    sent = 0
    campaigns = {cid for figures in counts.values() for cid in figures}
    for campaign_id in sorted(campaigns):
        figures = {name: counts[name].get(campaign_id, 0) for name in labels}
        supervisors = _supervisors(session, campaign_id)
        if not supervisors:
            continue
        lines = "；".join(f"{labels[name]} {n} 件" for name, n in figures.items() if n)
        notify(session, clock, user_ids=supervisors, kind="digest.daily",
               title=f"【每日督办】{today.month}月{today.day}日 待办事项", body=f"截至今晨：{lines}。",
               data={"date": today.isoformat(), "campaign_id": campaign_id, **figures},
               dedupe_key=f"digest:{campaign_id}:{today.isoformat()}")
        sent += len(supervisors)
    return sent


def flag_stale_devices(session: Session, clock: Clock) -> int:
    """A phone holding unsynced work for too long is lost evidence waiting to happen: tell supervisors.

    A push reports the outbox as sent, its own batch included; what the phone still held after
    it is that depth less the batch. A phone left holding work whose oldest change is now older
    than XUNCHA_DEVICE_STALE_HOURS (its age when reported plus the time since) is flagged, once
    a day, to the supervisors of its user's campaign.
    """
    now = clock.now()
    limit_s = current_app.config["DEVICE_STALE_HOURS"] * 3600
    today = _local_day(clock)[0]
    latest = (sa.select(DevicePush.device_id, sa.func.max(DevicePush.received_at).label("at"))
              .group_by(DevicePush.device_id).subquery())
    rows = session.execute(
        sa.select(DevicePush, Device, User)
        .join(latest, sa.and_(latest.c.device_id == DevicePush.device_id, latest.c.at == DevicePush.received_at))
        .join(Device, Device.id == DevicePush.device_id).join(User, User.id == Device.user_id)
        .where(Device.revoked_at.is_(None), User.campaign_id.is_not(None),
               DevicePush.outbox_depth > DevicePush.mutations)).all()
    flagged = 0
    for push, device, user in rows:
        held = (push.outbox_depth or 0) - push.mutations
        age_s = (push.oldest_unsynced_age_s or 0) + (now - push.received_at).total_seconds()
        if age_s < limit_s:
            continue
        hours = int(age_s // 3600)
        notify(session, clock, user_ids=_supervisors(session, user.campaign_id), kind="device.stale",
               title=f"【未同步提醒】{user.display_name} 的设备有 {held} 条记录未同步",
               body=(f"{user.display_name}（{user.username}）的设备 {device.name or device.id} 仍有 {held} 条记录未同步，"
                     f"最早一条已保存约 {hours} 小时，请尽快联网同步，以免检查记录和照片丢失。"),
               data={"device_id": str(device.id), "user_id": user.id, "outbox_depth": held, "age_s": int(age_s)},
               dedupe_key=f"device:{device.id}:stale:{today.isoformat()}")
        flagged += 1
    return flagged


def _supervisors(session: Session, campaign_id: int) -> list[int]:
    return list(session.scalars(sa.select(User.id).where(
        User.role == Role.SUPERVISOR, User.campaign_id == campaign_id, User.active.is_(True))))
