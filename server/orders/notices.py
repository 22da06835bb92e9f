"""Who hears of an order's steps, and what they read (in Chinese: unit, problem, deadline, level).

Every notice carries a key naming the step it reports; the outbox keeps one notice per person
and key, so a step taken twice by racing schedulers, or replayed after downtime, is told once.
Look-ups of a unit's people are remembered for the session: a sweep over thousands of orders
reads each unit's contacts once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from server.auth.models import Role, User
from server.clock import Clock
from server.db import Copy
from server.findings.models import Finding
from server.notifications.services import Notice, notify_many
from server.notifications.texts import format_deadline
from server.orders.models import Order
from server.orders.policy import Policy, policy
from server.sync import feed
from server.units.models import ContactRole, Unit, UnitContact

COLOUR_NAMES = {"yellow": "黄色", "orange": "橙色", "red": "红色", "blue": "蓝色", "green": "绿色",
                "purple": "紫色", "black": "黑色"}

_CACHE = "xuncha.audience"


def _memo(session: Session, key: tuple[Any, ...], load: Any) -> Any:
    cache: dict[tuple[Any, ...], Any] = session.info.setdefault(_CACHE, {})
    if key not in cache:
        cache[key] = load()
    return cache[key]


def _unit_people(session: Session, unit_id: int, role: ContactRole) -> frozenset[int]:
    """A unit's liaisons (accounts of the unit and liaison contacts with a login) or its heads.

    A head often has a login of the unit too; they hear as a head, when the ladder reaches them.
    """
    def contacts(of: ContactRole) -> set[int]:
        return set(session.scalars(sa.select(UnitContact.user_id).where(
            UnitContact.unit_id == unit_id, UnitContact.role == of, UnitContact.user_id.is_not(None))))

    def load() -> frozenset[int]:
        if role is ContactRole.HEAD:
            return frozenset(contacts(ContactRole.HEAD))
        accounts = set(session.scalars(sa.select(User.id).where(
            User.unit_id == unit_id, User.role == Role.LIAISON, User.active.is_(True))))
        return frozenset((accounts | contacts(ContactRole.LIAISON)) - contacts(ContactRole.HEAD))

    return _memo(session, ("unit", unit_id, role), load)


def prefetch_units(session: Session, unit_ids: Iterable[int]) -> None:
    """Read many units' people and names in a few queries (a sweep's batch), not a few per unit."""
    cache: dict[tuple[Any, ...], Any] = session.info.setdefault(_CACHE, {})
    wanted = sorted({u for u in unit_ids if u is not None and ("unit", u, ContactRole.LIAISON) not in cache})
    if not wanted:
        return
    contacts: dict[tuple[int, ContactRole], set[int]] = {}
    for unit_id, role, user_id in session.execute(sa.select(UnitContact.unit_id, UnitContact.role, UnitContact.user_id)
                                                  .where(UnitContact.unit_id.in_(wanted),
                                                         UnitContact.user_id.is_not(None))):
        contacts.setdefault((unit_id, role), set()).add(user_id)
    accounts: dict[int, set[int]] = {}
    for unit_id, user_id in session.execute(sa.select(User.unit_id, User.id).where(
            User.unit_id.in_(wanted), User.role == Role.LIAISON, User.active.is_(True))):
        accounts.setdefault(unit_id, set()).add(user_id)
    names = dict(session.execute(sa.select(Unit.id, Unit.name).where(Unit.id.in_(wanted))).all())
    for unit_id in wanted:
        heads = contacts.get((unit_id, ContactRole.HEAD), set())
        cache["unit", unit_id, ContactRole.HEAD] = frozenset(heads)
        cache["unit", unit_id, ContactRole.LIAISON] = frozenset(
            (accounts.get(unit_id, set()) | contacts.get((unit_id, ContactRole.LIAISON), set())) - heads)
        cache["unit_name", unit_id] = names.get(unit_id)


def _supervisors(session: Session, campaign_id: int) -> frozenset[int]:
    return _memo(session, ("supervisors", campaign_id), lambda: frozenset(session.scalars(sa.select(User.id).where(
        User.role == Role.SUPERVISOR, User.campaign_id == campaign_id, User.active.is_(True)))))


def _leadership(session: Session, names: tuple[str, ...]) -> frozenset[int]:
    return _memo(session, ("leadership", names), lambda: frozenset(session.scalars(sa.select(User.id).where(
        User.username.in_(names), User.active.is_(True)))) if names else frozenset())


def _active(session: Session, user_id: int) -> bool:
    return _memo(session, ("active", user_id), lambda: bool(session.scalar(
        sa.select(User.active).where(User.id == user_id))))


def recipients(session: Session, order: Order, finding: Finding, audiences: Iterable[str], pol: Policy, *,
               unit_id: int | None = None) -> list[int]:
    """The people of each audience; ``unit_id`` names the unit when the order has left it (回退)."""
    unit_id = unit_id if unit_id is not None else order.unit_id
    found: set[int] = set()
    for audience in audiences:
        if audience == "reporter":
            # The inspector who found it re-checks it (复查).
            if _active(session, finding.reported_by):
                found.add(finding.reported_by)
        elif audience == "liaison" and unit_id is not None:
            found |= _unit_people(session, unit_id, ContactRole.LIAISON)
        elif audience == "unit_head" and unit_id is not None:
            found |= _unit_people(session, unit_id, ContactRole.HEAD)
        elif audience == "supervisor":
            found |= _supervisors(session, finding.campaign_id)
        elif audience == "leadership":
            found |= _leadership(session, pol.leadership)
    return sorted(found)


def _unit_name(session: Session, unit_id: int | None) -> str:
    if unit_id is None:
        return "待分派"
    return _memo(session, ("unit_name", unit_id), lambda: session.scalar(sa.select(Unit.name).where(Unit.id == unit_id)))


def _deadline(order: Order) -> str:
    if order.due_at is None:
        return ""
    text = format_deadline(order.due_at, current_app.config["TIMEZONE"])
    return f"{text}（暂定）" if order.due_provisional else text


def _data(order: Order, finding: Finding, pol: Policy, **extra: Any) -> dict[str, Any]:
    level = pol.level(order.level)
    return {"order_id": str(order.id), "finding_id": str(finding.id), "unit_id": order.unit_id,
            "level": order.level, "level_name": level.name, "colour": level.colour,
            "due_at": order.due_at.isoformat() if order.due_at else None, **extra}


def _send(session: Session, clock: Clock, order: Order, finding: Finding, *, kind: str, audiences: Iterable[str],
          title: str, body: str, key: str, extra: dict[str, Any] | None = None, unit_id: int | None = None) -> None:
    """Queue the notice with the session; it is written when the transaction commits.

    Writing it at once would flush the caller's pending rows mid-batch (a sync push keeps its
    rows for one flush), and thousands of escalations go out as one bulk insert this way. A
    notice whose order was created in a savepoint since rolled back is dropped with it.
    """
    pol = policy(session, order.policy_version)
    users = recipients(session, order, finding, audiences, pol, unit_id=unit_id)
    if users:
        notice = Notice(users, kind, title, body, _data(order, finding, pol, **(extra or {})), key)
        session.info.setdefault(_QUEUE, []).append((notice, order, clock))


_QUEUE = "xuncha.order_notices"


def _send_queued(session: Session) -> None:
    if session.in_nested_transaction():
        return
    queued = session.info.pop(_QUEUE, [])
    live = [(notice, clock) for notice, order, clock in queued if order is None or not _rolled_back(session, order)]
    if live:
        notify_many(session, live[0][1], [notice for notice, _clock in live])


def _rolled_back(session: Session, order: Order) -> bool:
    if feed.bulk_record(session, Order, order.id) is order:
        return False  # a copy written in bulk (a sweep, a push), published at the commit
    if isinstance(order, Copy):
        return True  # written in bulk in a savepoint that was rolled back: never published
    state = sa.inspect(order)
    return state.transient or (state.detached and not state.was_deleted)


def _forget_queued(session: Session, _previous: Any) -> None:
    if not session.in_transaction():
        session.info.pop(_QUEUE, None)


def install() -> None:
    """Send queued notices at commit, before the sync feed's hook reads what the commit wrote
    (in-app notices are synced to the person's phones)."""
    if not event.contains(Session, "before_commit", _send_queued):
        event.listen(Session, "before_commit", _send_queued, insert=True)
        event.listen(Session, "after_soft_rollback", _forget_queued)


def _problem(session: Session, order: Order, finding: Finding) -> str:
    where = f"（{finding.location_text}）" if finding.location_text else ""
    return f"{_unit_name(session, order.unit_id)}{finding.description}{where}"


def issued(session: Session, clock: Clock, order: Order, finding: Finding) -> None:
    pol = policy(session, order.policy_version)
    level = pol.level(order.level)
    unit = _unit_name(session, order.unit_id)
    _send(session, clock, order, finding, kind="order.issued", audiences=("liaison",),
          title=f"【{level.name}】{unit}：{finding.category}",
          body=f"{_problem(session, order, finding)}。请于{_deadline(order)}前完成整改，并上传整改后照片反馈。",
          key=f"order:{order.id}:issued:{order.started_at.isoformat() if order.started_at else order.version}")


#: Audiences above the unit: in a sweep they get one summary, not a notice per order.
OVERSEERS = frozenset({"supervisor", "leadership"})


@dataclass
class Summary:
    """The escalations of one sweep, per campaign and level, for the people above the units."""

    steps: dict[tuple[int, int, int], list[tuple[Order, Finding]]] = field(default_factory=dict)

    def add(self, order: Order, finding: Finding) -> None:
        key = (finding.campaign_id, order.policy_version, order.level)
        self.steps.setdefault(key, []).append((order, finding))


def escalated(session: Session, clock: Clock, order: Order, finding: Finding, summary: Summary | None = None, *,
              overdue: bool = True, reason: str = "") -> None:
    """The step up the ladder. Only a missed deadline is called 逾期未整改: a supervisor may
    escalate (督办) an order that is not late, and the unit must not be told it is."""
    pol = policy(session, order.policy_version)
    level = pol.level(order.level)
    unit = _unit_name(session, order.unit_id)
    audiences = level.notify
    if summary is not None:
        summary.add(order, finding)
        audiences = tuple(a for a in audiences if a not in OVERSEERS)
    why = "逾期未整改" if overdue else "督办"
    because = "，逾期未整改" if overdue else (f"，督办原因：{reason}" if reason else "")
    _send(session, clock, order, finding, kind="order.escalated", audiences=audiences,
          title=f"【{level.name}·{COLOUR_NAMES.get(level.colour, level.colour)}】{unit}：{finding.category} {why}",
          body=(f"{_problem(session, order, finding)}{because}，已升级为{level.name}"
                f"（第{order.level}级）。请于{_deadline(order)}前完成整改并反馈。"),
          key=f"order:{order.id}:level:{order.level}", extra={"overdue": overdue})


#: Orders named in a summary's text; the rest are counted (the queue lists them all).
SUMMARY_NAMED = 20


def send_summary(session: Session, clock: Clock, summary: Summary) -> None:
    """One notice per supervisor (and leader) for a sweep's escalations to each level."""
    for (campaign_id, version, number), steps in summary.steps.items():
        pol = policy(session, version)
        level = pol.level(number)
        order, finding = steps[0]
        users = recipients(session, order, finding, [a for a in level.notify if a in OVERSEERS], pol)
        if not users:
            continue
        named = "；".join(f"{_unit_name(session, o.unit_id)}{f.category}" for o, f in steps[:SUMMARY_NAMED])
        more = f"等 {len(steps)} 件" if len(steps) > SUMMARY_NAMED else ""
        notice = Notice(users, "order.escalated.summary",
                        f"【{level.name}】{len(steps)} 件逾期未整改，已升级为{level.name}",
                        f"以下问题逾期未整改，已升级为{level.name}（第{number}级）：{named}{more}。请在问题清单中查看并督办。",
                        {"campaign_id": campaign_id, "level": number, "level_name": level.name,
                         "colour": level.colour, "count": len(steps),
                         "order_ids": [str(o.id) for o, _f in steps[:100]]},
                        f"escalated:{campaign_id}:{number}:{clock.now().isoformat()}:{order.id}")
        session.info.setdefault(_QUEUE, []).append((notice, None, clock))


def reminder(session: Session, clock: Clock, order: Order, finding: Finding, index: int,
             audiences: Iterable[str]) -> None:
    pol = policy(session, order.policy_version)
    unit = _unit_name(session, order.unit_id)
    _send(session, clock, order, finding, kind="order.reminder", audiences=audiences,
          title=f"【整改提醒】{unit}：{finding.category} 将于{_deadline(order)}到期",
          body=(f"{_problem(session, order, finding)}，{pol.level(order.level).name}整改期限为{_deadline(order)}，"
                "请抓紧整改并反馈。"),
          key=f"order:{order.id}:remind:{order.due_at.isoformat() if order.due_at else ''}:{index}")


_UNIT_TEXTS = {
    "order.rejected": ("复查未通过", "复查未通过，请重新整改，期限{deadline}。原因：{reason}"),
    "order.extended": ("已延期", "整改期限已延至{deadline}。"),
    "order.resumed": ("挂账恢复", "挂账已恢复，剩余整改期限至{deadline}。"),
    "order.rescheduled": ("期限已调整", "法定节假日安排已公布，整改期限由{previous}（暂定）调整为{deadline}。"),
    "request.approved": ("申请已同意", "您的{request_name}已同意。{note}"),
    "order.closed": ("已销号", "复查合格，已销号。{note}"),
    "request.refused": ("申请未同意", "您的申请未同意，请按期整改，期限{deadline}。{note}"),
}


_REQUEST_NAMES = {"extension": "延期申请", "return": "回退申请", "park": "挂账申请", "void": "作废申请"}


def to_unit(session: Session, clock: Clock, order: Order, finding: Finding, *, kind: str,
            extra: dict[str, Any] | None = None, unit_id: int | None = None) -> None:
    """Tell the unit; ``unit_id`` names it when the order has just left it (回退 approved)."""
    label, template = _UNIT_TEXTS[kind]
    unit_id = unit_id if unit_id is not None else order.unit_id
    values = {"deadline": _deadline(order), "reason": "", "note": "", "previous": "",
              "request_name": _REQUEST_NAMES.get((extra or {}).get("request_kind", ""), "申请"), **(extra or {})}
    where = f"（{finding.location_text}）" if finding.location_text else ""
    _send(session, clock, order, finding, kind=kind, audiences=("liaison",),
          title=f"【{label}】{_unit_name(session, unit_id)}：{finding.category}",
          body=f"{_unit_name(session, unit_id)}{finding.description}{where}。{template.format(**values)}",
          key=f"order:{order.id}:{kind}:{order.version}", extra=extra, unit_id=unit_id)


def to_reporter(session: Session, clock: Clock, order: Order, finding: Finding, *, late: bool) -> None:
    """The unit answered: the inspector who found the problem re-checks it (复查)."""
    unit = _unit_name(session, order.unit_id)
    _send(session, clock, order, finding, kind="order.responded", audiences=("reporter",),
          title=f"【待复查】{unit}：{finding.category}",
          body=f"{_problem(session, order, finding)}。单位已反馈整改情况{'（逾期反馈）' if late else ''}，请复查。",
          key=f"order:{order.id}:responded:{order.version}", extra={"late": late})


_SUPERVISOR_TEXTS = {
    "order.triage": "待分派", "order.bounced": "多次回退，请督查人员裁定",
    "request.extension": "延期申请", "request.return": "回退申请", "request.park": "挂账申请",
    "request.void": "作废申请",
}


def to_supervisors(session: Session, clock: Clock, order: Order, finding: Finding, *, kind: str,
                   extra: dict[str, Any] | None = None) -> None:
    label = _SUPERVISOR_TEXTS[kind]
    reason = f"理由：{extra['reason']}" if extra and extra.get("reason") else ""
    _send(session, clock, order, finding, kind=kind, audiences=("supervisor",),
          title=f"【{label}】{_unit_name(session, order.unit_id)}：{finding.category}",
          body=f"{_problem(session, order, finding)}。{reason}",
          key=f"order:{order.id}:{kind}:{order.version}", extra=extra)
