"""The bulletin (快报) for any period: findings found, orders rectified, overdue and escalated,
by category, by unit and by level, as counts like seed 001's "清理乱堆杂物220起".

Definitions (docs/reports.md), for a period of whole days [start, end] in the campaign's time zone:

- found: findings observed in the period, except voided ones;
- rectified: orders closed (销号) in the period;
- overdue: orders whose deadline fell in the period and was missed — the scheduler escalated
  them for it, or they were still waiting for the unit's reply when the period (or today) ended;
- escalated: escalation steps taken in the period, counted under the level reached.
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
from server.reports.document import Document, Section, chinese_date, date_span
from server.units.models import Unit

UNASSIGNED = "待分派"
MEASURES = ("found", "rectified", "overdue", "escalated")


@dataclass
class Row:
    name: str
    found: int = 0
    rectified: int = 0
    overdue: int = 0
    escalated: int = 0


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
    notes: list[str] = field(default_factory=list)


def period_bounds(start: dt.date, end: dt.date, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    zone = ZoneInfo(timezone)
    begin = dt.datetime.combine(start, dt.time(), zone).astimezone(dt.timezone.utc)
    stop = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.timezone.utc)
    return begin, stop


def _level_names(session: Session) -> dict[int, str]:
    version = session.scalar(sa.select(sa.func.max(PolicyVersion.id)))
    if version is None:
        return {}
    from server.orders.policy import policy

    return {level.level: level.name for level in policy(session, version).levels}


def collect(session: Session, campaign: Campaign, start: dt.date, end: dt.date, now: dt.datetime) -> Bulletin:
    begin, stop = period_bounds(start, end, campaign.timezone)
    unit_name = sa.func.coalesce(Unit.name, UNASSIGNED)
    found = session.execute(
        sa.select(Finding.category, unit_name).outerjoin(Unit, Unit.id == Finding.unit_id)
        .where(Finding.campaign_id == campaign.id, Finding.status != FindingStatus.VOIDED,
               Finding.observed_at >= begin, Finding.observed_at < stop)).all()

    def orders(*where: Any) -> list[Any]:
        return session.execute(
            sa.select(Order.id, Finding.category, unit_name, Order.level)
            .join(Finding, Finding.id == Order.finding_id).outerjoin(Unit, Unit.id == Order.unit_id)
            .where(Finding.campaign_id == campaign.id, *where)).all()

    rectified = orders(Order.status == OrderStatus.CLOSED, Order.closed_at >= begin, Order.closed_at < stop)
    missed = sa.select(Escalation.order_id).where(Escalation.escalated_by.is_(None),
                                                  Escalation.previous_due_at >= begin,
                                                  Escalation.previous_due_at < stop)
    overdue = orders(sa.or_(Order.id.in_(missed),
                            sa.and_(Order.status == OrderStatus.ISSUED, Order.due_at >= begin,
                                    Order.due_at < min(stop, now))))
    steps = session.execute(
        sa.select(Escalation.level, Finding.category, unit_name)
        .join(Order, Order.id == Escalation.order_id).join(Finding, Finding.id == Order.finding_id)
        .outerjoin(Unit, Unit.id == Order.unit_id)
        .where(Finding.campaign_id == campaign.id, Escalation.escalated_at >= begin,
               Escalation.escalated_at < stop)).all()

    names = _level_names(session)
    tallies: dict[str, dict[str, Counter[str]]] = {m: {"category": Counter(), "unit": Counter(), "level": Counter()}
                                                   for m in MEASURES}
    for category, unit in found:
        _count(tallies["found"], category, unit, None)
    for _id, category, unit, level in rectified:
        _count(tallies["rectified"], category, unit, None)
    for _id, category, unit, level in overdue:
        _count(tallies["overdue"], category, unit, names.get(level, f"第{level}级"))
    for level, category, unit in steps:
        _count(tallies["escalated"], category, unit, names.get(level, f"第{level}级"))
    totals = Row("合计", len(found), len(rectified), len(overdue), len(steps))
    level_order = {name: number for number, name in names.items()}
    return Bulletin(campaign.name, campaign.office, start, end, totals,
                    by_category=_rows(tallies, "category"), by_unit=_rows(tallies, "unit"),
                    by_level=sorted(_rows(tallies, "level"), key=lambda r: (level_order.get(r.name, 99), r.name)))


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
    return "、".join(f"{r.name}{getattr(r, measure)}起" for r in picked)


def _line(row: Row) -> str:
    return f"{row.name}：发现问题{row.found}起，整改销号{row.rectified}起，逾期{row.overdue}起，升级督办{row.escalated}起。"


def compose(bulletin: Bulletin, *, charts: bool, dated: dt.date) -> Document:
    t = bulletin.totals
    span = date_span(bulletin.start, bulletin.end)
    summary = f"{span}，共发现问题{t.found}起"
    summary += f"，其中{_counts(bulletin.by_category, 'found')}" if t.found else ""
    summary += f"；整改销号{t.rectified}起；逾期未整改{t.overdue}起；升级督办{t.escalated}起。"
    note = [] if charts else [_no_chart_note()]
    by_category: Section = {"heading": "问题分类统计",
                            "paragraphs": ([_line(r) for r in bulletin.by_category] or ["本期无。"]) + note,
                            "figures": [CATEGORY_CHART] if charts and bulletin.by_category else []}
    by_unit: Section = {"heading": "各单位问题与整改情况",
                        "paragraphs": [_line(r) for r in bulletin.by_unit] or ["本期无。"],
                        "figures": [OVERDUE_CHART] if charts and t.overdue else []}
    levels = [f"{r.name}：升级督办{r.escalated}起，逾期{r.overdue}起。" for r in bulletin.by_level]
    by_level: Section = {"heading": "督办层级情况", "paragraphs": levels or ["本期无升级督办。"]}
    return {"title": f"{bulletin.office or bulletin.campaign}巡查快报（{span}）", "addressees": "",
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
