"""The bulletin (快报) for any period, in the work report's terms (seed 001): each category's
work with its own measure word ("清理乱堆杂物220起，清除野广告800条"), 整改率, the on-time rate,
反弹 and orders escalated, by category, by unit and by level.

Definitions (docs/reports.md), for a period of whole days [start, end] in the campaign's time zone:

- found: findings observed in the period, except voided ones, under the unit their order is
  with now (a triage finding assigned since counts under its unit, not 待分派);
- rectified: orders closed (销号) in the period; on time: those of them never escalated for a
  missed deadline;
- overdue: orders whose deadline fell in the period and was missed — the scheduler escalated
  them for it, or they were still waiting for the unit's reply when the period (or today) ended;
- escalated: orders that climbed in the period (an order climbing twice counts once; by level,
  under each level it reached);
- rebounds (反弹): orders raised in the period for a problem found again after its order closed;
- 整改率: of the orders of findings found in the period, the share closed by the period's end.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.campaigns.models import Campaign
from server.findings.models import Finding, FindingStatus
from server.orders.models import Escalation, Order, OrderStatus, PolicyVersion
from server.orders.policy import Policy, policy
from server.reports.document import Document, Section, chinese_date, date_span
from server.units.models import Unit

UNASSIGNED = "待分派"
MEASURES = ("found", "rectified", "overdue", "escalated", "on_time", "rebounds")


@dataclass
class Row:
    name: str
    found: int = 0
    rectified: int = 0
    overdue: int = 0
    escalated: int = 0
    on_time: int = 0
    rebounds: int = 0
    #: By category: what the work reports call the work (清理乱堆杂物) and its measure word (起).
    action: str = ""
    word: str = "起"


@dataclass
class Bulletin:
    campaign: str
    office: str
    start: dt.date
    end: dt.date
    totals: Row
    by_category: list[Row]
    by_unit: list[Row]
    by_level: list[Row]
    #: Orders of the findings found in the period, and how many of them are closed.
    ordered: int = 0
    ordered_closed: int = 0
    #: 第N期: the issue's number, once issued; None for a period not issued.
    number: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def rectification_rate(self) -> float | None:
        return self.ordered_closed / self.ordered if self.ordered else None

    @property
    def on_time_rate(self) -> float | None:
        return self.totals.on_time / self.totals.rectified if self.totals.rectified else None


def period_bounds(start: dt.date, end: dt.date, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    zone = ZoneInfo(timezone)
    begin = dt.datetime.combine(start, dt.time(), zone).astimezone(dt.timezone.utc)
    stop = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.timezone.utc)
    return begin, stop


def _current_policy(session: Session) -> Policy | None:
    version = session.scalar(sa.select(sa.func.max(PolicyVersion.id)))
    return policy(session, version) if version is not None else None


def collect(session: Session, campaign: Campaign, start: dt.date, end: dt.date, now: dt.datetime) -> Bulletin:
    begin, stop = period_bounds(start, end, campaign.timezone)
    unit_name = sa.func.coalesce(Unit.name, UNASSIGNED)
    # The unit a finding belongs to now: its latest order's, else the one it was reported for.
    latest_order = (sa.select(Order.unit_id).where(Order.finding_id == Finding.id, Order.status != OrderStatus.VOIDED)
                    .order_by(Order.issued_at.desc(), Order.id.desc()).limit(1).correlate(Finding).scalar_subquery())
    current_unit = sa.func.coalesce(latest_order, Finding.unit_id)
    in_period = (Finding.campaign_id == campaign.id, Finding.status != FindingStatus.VOIDED,
                 Finding.observed_at >= begin, Finding.observed_at < stop)
    found = session.execute(
        sa.select(Finding.category, unit_name).select_from(Finding).outerjoin(Unit, Unit.id == current_unit)
        .where(*in_period)).all()

    def orders(*where: Any) -> list[Any]:
        return session.execute(
            sa.select(Order.id, Finding.category, unit_name, Order.level)
            .join(Finding, Finding.id == Order.finding_id).outerjoin(Unit, Unit.id == Order.unit_id)
            .where(Finding.campaign_id == campaign.id, *where)).all()

    rectified = orders(Order.status == OrderStatus.CLOSED, Order.closed_at >= begin, Order.closed_at < stop)
    ever_missed = sa.select(Escalation.order_id).where(Escalation.escalated_by.is_(None))
    on_time = orders(Order.status == OrderStatus.CLOSED, Order.closed_at >= begin, Order.closed_at < stop,
                     Order.id.not_in(ever_missed))
    missed = ever_missed.where(Escalation.previous_due_at >= begin, Escalation.previous_due_at < stop)
    overdue = orders(sa.or_(Order.id.in_(missed),
                            sa.and_(Order.status == OrderStatus.ISSUED, Order.due_at >= begin,
                                    Order.due_at < min(stop, now))))
    rebounds = orders(Order.rebound_of_id.is_not(None), Order.status != OrderStatus.VOIDED,
                      Order.issued_at >= begin, Order.issued_at < stop)
    steps = session.execute(
        sa.select(Escalation.order_id, Escalation.level, Finding.category, unit_name)
        .join(Order, Order.id == Escalation.order_id).join(Finding, Finding.id == Order.finding_id)
        .outerjoin(Unit, Unit.id == Order.unit_id)
        .where(Finding.campaign_id == campaign.id, Escalation.escalated_at >= begin,
               Escalation.escalated_at < stop)).all()
    def ordered(*where: Any) -> int:
        return session.scalar(sa.select(sa.func.count()).select_from(Order).join(Finding, Finding.id == Order.finding_id)
                              .where(*in_period, Order.status != OrderStatus.VOIDED, *where)) or 0

    current = _current_policy(session)
    names = {level.level: level.name for level in current.levels} if current else {}
    tallies: dict[str, dict[str, Counter[str]]] = {m: {"category": Counter(), "unit": Counter(), "level": Counter()}
                                                   for m in MEASURES}
    for category, unit in found:
        _count(tallies["found"], category, unit, None)
    for name, rows in (("rectified", rectified), ("on_time", on_time), ("rebounds", rebounds)):
        for _id, category, unit, _level in rows:
            _count(tallies[name], category, unit, None)
    for _id, category, unit, level in overdue:
        _count(tallies["overdue"], category, unit, names.get(level, f"第{level}级"))
    climbed: dict[object, tuple[str, str]] = {}
    for order_id, level, category, unit in steps:
        tallies["escalated"]["level"][names.get(level, f"第{level}级")] += 1
        climbed[order_id] = (category, unit)
    for category, unit in climbed.values():
        tallies["escalated"]["category"][category] += 1
        tallies["escalated"]["unit"][unit] += 1
    totals = Row("合计", len(found), len(rectified), len(overdue), len(climbed), len(on_time), len(rebounds))
    level_order = {name: number for number, name in names.items()}
    by_category = _rows(tallies, "category")
    for row in by_category:
        measure = current.measure(row.name) if current else None
        row.action, row.word = (measure.action, measure.word) if measure else ("", "起")
    return Bulletin(campaign.name, campaign.office, start, end, totals,
                    by_category=by_category, by_unit=_rows(tallies, "unit"),
                    by_level=sorted(_rows(tallies, "level"), key=lambda r: (level_order.get(r.name, 99), r.name)),
                    ordered=ordered(),
                    ordered_closed=ordered(Order.status == OrderStatus.CLOSED, Order.closed_at < min(stop, now)))


def _count(tally: dict[str, Counter[str]], category: str, unit: str, level: str | None) -> None:
    tally["category"][category] += 1
    tally["unit"][unit] += 1
    if level is not None:
        tally["level"][level] += 1


def _rows(tallies: dict[str, dict[str, Counter[str]]], by: str) -> list[Row]:
    keys = set().union(*(tallies[m][by] for m in MEASURES))
    rows = [Row(key, *(tallies[m][by][key] for m in MEASURES)) for key in keys]
    # Most found first, then most overdue: the order a reader scans for trouble.
    return sorted(rows, key=lambda r: (-r.found, -r.overdue, -r.rectified, -r.escalated, r.name))


# -- the document ------------------------------------------------------------------------------

CATEGORY_CHART, OVERDUE_CHART = "problems_by_category", "overdue_by_unit"


def _counts(rows: list[Row], measure: str) -> str:
    picked = sorted((r for r in rows if getattr(r, measure)), key=lambda r: -getattr(r, measure))
    return "、".join(f"{r.name}{getattr(r, measure)}{r.word}" for r in picked)


def _work(rows: list[Row]) -> str:
    """The work done, as the work reports write it: 清理乱堆杂物220起，清除野广告800条."""
    picked = sorted((r for r in rows if r.rectified), key=lambda r: -r.rectified)
    return "，".join(f"{r.action or '整改' + r.name}{r.rectified}{r.word}" for r in picked)


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _line(row: Row) -> str:
    word = row.word
    return (f"{row.name}：发现问题{row.found}{word}，整改销号{row.rectified}{word}（按期{row.on_time}{word}），"
            f"逾期{row.overdue}{word}，升级督办{row.escalated}{word}，反弹{row.rebounds}{word}。")


def compose(bulletin: Bulletin, *, charts: bool, dated: dt.date) -> Document:
    t = bulletin.totals
    span = date_span(bulletin.start, bulletin.end)
    summary = f"{span}，共发现问题{t.found}起"
    summary += f"，其中{_counts(bulletin.by_category, 'found')}" if t.found else ""
    summary += f"；累计{_work(bulletin.by_category)}" if t.rectified else ""
    summary += (f"；整改销号{t.rectified}起，整改率{percent(bulletin.rectification_rate)}，"
                f"按期整改率{percent(bulletin.on_time_rate)}；逾期未整改{t.overdue}起；升级督办{t.escalated}起；"
                f"反弹{t.rebounds}起。")
    note = [] if charts else [_no_chart_note()]
    by_category: Section = {"heading": "问题分类统计",
                            "paragraphs": ([_line(r) for r in bulletin.by_category] or ["本期无。"]) + note,
                            "figures": [CATEGORY_CHART] if charts and bulletin.by_category else []}
    by_unit: Section = {"heading": "各单位问题与整改情况",
                        "paragraphs": [_line(Row(**{**vars(r), "word": "起"})) for r in bulletin.by_unit] or ["本期无。"],
                        "figures": [OVERDUE_CHART] if charts and t.overdue else []}
    levels = [f"{r.name}：升级督办{r.escalated}起，逾期{r.overdue}起。" for r in bulletin.by_level]
    by_level: Section = {"heading": "督办层级情况", "paragraphs": levels or ["本期无升级督办。"]}
    return {"number": f"第{bulletin.number}期" if bulletin.number else "",
            "title": f"{bulletin.office or bulletin.campaign}巡查快报（{span}）", "addressees": "",
            "opening": [summary], "sections": [by_category, by_unit, by_level], "closing": [],
            "office": bulletin.office, "dated": chinese_date(dated)}


def _no_chart_note() -> str:
    from server.reports.charts import NO_FONT_NOTE

    return NO_FONT_NOTE


def draw_charts(bulletin: Bulletin, font_path: str, *, max_units: int) -> dict[str, bytes]:
    from server.reports.charts import bar_chart

    charts = {}
    if bulletin.by_category:
        rows = bulletin.by_category
        charts[CATEGORY_CHART] = bar_chart("问题分类统计（起）", [r.name for r in rows], [r.found for r in rows],
                                           font_path)
    late = sorted((r for r in bulletin.by_unit if r.overdue), key=lambda r: (-r.overdue, r.name))[:max_units]
    if late:
        charts[OVERDUE_CHART] = bar_chart("逾期未整改（起）", [r.name for r in late], [r.overdue for r in late],
                                          font_path, horizontal=True)
    return charts
