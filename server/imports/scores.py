"""Score sheet (考核结果): a round's results as the office has them on paper, one unit a row.

A row gives a score (得分), a tier (等次), or both; a 综合评议 adjustment with its reason; or the
reason the unit is not ranked (暂不排序原因). The sheet replaces the results entered before it,
and the order of its rows is kept: when only tiers are known, units are listed in that order.
"""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.assessment.models import EnteredResult, RankingExclusion
from server.assessment.services import config_for, exclusions_for, round_unit_ids
from server.imports.base import Column, Context, Outcome, Problem, Record, Spec, assign, decimal
from server.imports.messages import say
from server.imports.references import UnitCodes
from server.imports.writers import plain
from server.rounds.models import Round
from server.standards.models import Standard
from server.units.models import Unit

ZERO = Decimal(0)

COLUMNS = (
    Column("unit", ("单位", "单位名称", "单位编码", "被考核单位"), required=True, max_length=200),
    Column("score", ("得分", "总分", "分数"), parse=decimal(ZERO)),
    Column("tier", ("等次", "等级", "档次"), max_length=20),
    Column("adjustment", ("评议调整", "综合评议调整", "调整分"), parse=decimal()),
    Column("adjustment_reason", ("调整理由", "评议意见", "调整原因")),
    Column("note", ("备注",)),
    Column("excluded_reason", ("暂不排序原因", "暂未排序原因", "不排序原因"), max_length=200),
)

#: The header an export writes, in column order; an export imports back unchanged.
HEADERS = ("单位", "得分", "等次", "评议调整", "调整理由", "备注", "暂不排序原因")


def check(context: Context, records: list[Record]) -> list[Problem]:
    round_: Round = context.target
    session = context.session
    full = session.scalar(sa.select(Standard.full_score).where(Standard.id == round_.standard_id)) or ZERO
    config = config_for(session, round_.id)
    tiers = {}
    for tier in [*config.tiers, *(t for group in config.group_tiers or [] for t in group["tiers"])]:
        tiers.setdefault(tier["name"], tier["name"])
        if tier.get("label"):
            tiers.setdefault(tier["label"], tier["name"])
    units = UnitCodes(context)
    # A round combining others (an annual result) assesses their units too.
    in_round = {unit_id for source in [round_.id, *(s["round_id"] for s in config.sources or [])]
                for unit_id in round_unit_ids(session, source)}
    problems = []
    first: dict[int, Record] = {}
    for rec in records:
        values = rec.values
        if values.get("unit"):
            unit_id = rec.refs["unit_id"] = units.find(values["unit"])
            if unit_id is None:
                problems.append(rec.problem("unit", say("unknown_unit_text", unit=values["unit"],
                                                        campaign=context.campaign.name)))
            elif unit_id not in in_round:
                problems.append(rec.problem("unit", say("not_in_round", unit=values["unit"], round=round_.name)))
            else:
                earlier = first.setdefault(unit_id, rec)
                if earlier is not rec and earlier.values["unit"] != values["unit"]:
                    problems.append(rec.problem("unit", say("same_unit_line", line=earlier.line)))
        score, adjustment = values.get("score"), values.get("adjustment")
        if score is not None and score != "" and score > full:
            problems.append(rec.problem("score", say("above_full_score", score=score, full=full)))
        elif score not in (None, "") and adjustment not in (None, "") and not ZERO <= score + adjustment <= full:
            problems.append(rec.problem("adjustment", say("adjusted_out_of_range", score=score + adjustment,
                                                          full=full)))
        if adjustment and not values.get("adjustment_reason"):
            problems.append(rec.problem("adjustment_reason", say("adjustment_without_reason")))
        if values.get("tier"):
            rec.refs["tier"] = tiers.get(values["tier"])
            if rec.refs["tier"] is None:
                problems.append(rec.problem("tier", say("unknown_tier", tier=values["tier"],
                                                        tiers="、".join(dict.fromkeys(tiers.values())))))
        kinds = ("score", "tier", "excluded_reason", "adjustment")
        given = [values.get(name) for name in kinds]
        # A cell that did not parse is reported already; the row is not empty for all that.
        unreadable = any(name in rec.headers and name not in values for name in kinds)
        if not any(value not in (None, "") for value in given) and "unit" in values and not unreadable:
            problems.append(rec.problem("unit", say("nothing_given")))
    return problems


def apply(context: Context, records: list[Record]) -> list[Outcome]:
    round_: Round = context.target
    session = context.session
    before = {r.unit_id: r for r in session.scalars(sa.select(EnteredResult)
                                                     .where(EnteredResult.round_id == round_.id))}
    outcomes = []
    for position, rec in enumerate(records):
        values = rec.values
        fields = {"score": _number(values.get("score")), "tier": rec.refs.get("tier"),
                  "adjustment": _number(values.get("adjustment")) or ZERO,
                  "adjustment_reason": values.get("adjustment_reason") or "", "note": values.get("note") or "",
                  "position": position}
        result = before.pop(rec.refs["unit_id"], None)
        if result is None:
            session.add(EnteredResult(round_id=round_.id, unit_id=rec.refs["unit_id"], **fields))
            outcomes.append(Outcome.CREATED)
        else:
            outcomes.append(Outcome.UPDATED if assign(result, fields) else Outcome.UNCHANGED)
    for left_out in before.values():
        session.delete(left_out)
    if before:
        context.report.notes.append(say("note.results_removed", count=len(before)))
    if any("excluded_reason" in rec.values for rec in records):
        session.execute(sa.delete(RankingExclusion).where(RankingExclusion.round_id == round_.id))
        session.add_all(RankingExclusion(round_id=round_.id, unit_id=rec.refs["unit_id"],
                                         reason=rec.values["excluded_reason"], position=index)
                        for index, rec in enumerate(r for r in records if r.values.get("excluded_reason")))
    return outcomes


def result_rows(session: Session, round_: Round) -> list[list[object]]:
    """The results entered for the round as the rows of a score sheet, header first, in the order
    entered; then the units left out of the ranking with no result entered, as the results page
    would send them (importing the file gives those a row of their own)."""
    names = dict(session.execute(sa.select(Unit.id, Unit.name).where(Unit.campaign_id == round_.campaign_id)).all())
    excluded = {e.unit_id: e.reason for e in exclusions_for(session, round_.id)}
    rows: list[list[object]] = [list(HEADERS)]
    for result in session.scalars(sa.select(EnteredResult).where(EnteredResult.round_id == round_.id)
                                  .order_by(EnteredResult.position, EnteredResult.unit_id)):
        rows.append([names[result.unit_id], "" if result.score is None else plain(result.score), result.tier or "",
                     plain(result.adjustment) if result.adjustment else "", result.adjustment_reason, result.note,
                     excluded.pop(result.unit_id, "")])
    rows += [[names[unit_id], "", "", "", "", "", reason] for unit_id, reason in excluded.items()]
    return rows


def _number(value: Decimal | str | None) -> Decimal | None:
    return None if value in (None, "") else value  # type: ignore[return-value]


SPEC = Spec(kind="scores", columns=COLUMNS, unique=("unit",), check=check, apply=apply)
