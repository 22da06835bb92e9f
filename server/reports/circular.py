"""The text of a circular (通报), composed from a round's assessment and its findings in the
structure of the seeds' circulars: title; opening; 基本情况; 存在的主要问题 (by category, most
frequent first, with counts and named examples, units with the same problem named together:
"A、B、C等单位未按要求建立台帐"); 结果排序 (each tier's units in order, joined with 、, per group,
the unranked with their reasons); 工作要求; closing; the score table as the 附件 (units not checked
are counted in the text and listed there, once).

An annual result (a round combining others) has its own wording: no teams, no inspection dates,
no problems found on visits, and units without a result are not "not checked"."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal

from server.assessment.results import EXCLUDED, NOT_VISITED, RankingGroup, RoundResult, UnitResult
from server.reports.document import Attachment, Document, Section, chinese_date, chinese_number, date_span

_TRAILING = "。；;，,、 "


@dataclass(frozen=True)
class Problem:
    """One finding as the circular cites it."""

    unit: str
    category: str
    description: str
    #: Higher is worse; examples are picked worst first.
    severity: int
    observed_at: dt.datetime


@dataclass(frozen=True)
class OrderTally:
    closed: int = 0
    overdue: int = 0
    escalated: int = 0


def _score(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _names(units: list[UnitResult]) -> str:
    return "、".join(u.name for u in units)


def title(result: RoundResult) -> str:
    return f"关于{result.round_name}结果的通报" if result.sources else f"关于{result.round_name}情况的通报"


def opening(result: RoundResult) -> str:
    if result.sources:
        parts = "、".join(f"{s['name']}（权重{_score(Decimal(s['weight']))}）" for s in result.sources)
        return (f"{result.office}按照《{result.standard}》，综合{parts}结果，对{len([u for u in result.units if u.status != NOT_VISITED])}个单位"
                f"进行了{result.round_name}。现将考核结果通报如下：")
    checked = len([u for u in result.units if u.status != NOT_VISITED])
    who = f"{result.office}组成{result.teams}个检查组" if result.teams else result.office
    methods = f"采取{'、'.join(result.methods)}等方式，" if result.methods else ""
    return (f"{date_span(result.starts_on, result.ends_on)}，{who}，对{checked}个单位开展了{result.round_name}。"
            f"检查组对照《{result.standard}》，{methods}逐项量化打分。现将检查情况通报如下：")


def overview(result: RoundResult, problems: list[Problem], orders: OrderTally) -> list[str]:
    assessed = result.units
    unvisited = result.with_status(NOT_VISITED)
    paragraphs = []
    if not result.sources:
        first = f"本次检查应检查{len(assessed)}个单位，实际检查{len(assessed) - len(unvisited)}个"
        # Counted here, named once in the attachment's table.
        paragraphs.append(first + (f"，{len(unvisited)}个单位未检查（名单见附件）。" if unvisited else "。"))
    if problems:
        units = len({p.unit for p in problems})
        paragraphs.append(f"检查共发现问题{len(problems)}个，涉及{units}个单位。截至{chinese_date(result.as_of.date())}，"
                          f"已整改销号{orders.closed}个，逾期未整改{orders.overdue}个，升级督办{orders.escalated}个。")
    ranked = [result.unit(i) for g in result.ranking for i in g.unit_ids]
    if ranked:
        scores = [u.score for u in ranked if u.score is not None]
        tiers = Counter(u.tier for u in ranked)
        counts = "、".join(f"{t.name}{tiers[t.name]}个" for t in result.all_tiers() if tiers[t.name])
        if not scores:
            # Only tiers were entered: there is no score to speak of.
            paragraphs.append(f"参加排序的{len(ranked)}个单位中，{counts}。")
            return paragraphs
        mean = (sum(scores, Decimal(0)) / len(scores)).quantize(Decimal("0.01"))
        best = sorted(ranked, key=lambda u: (-(u.score or 0), u.code))[:5]
        basis = "加权综合" if result.sources else f"按《{result.standard}》量化打分（满分{_score(result.full_score)}分）"
        paragraphs.append(f"{basis}，参加排序的"
                          f"{len(ranked)}个单位平均得分{_score(mean)}分，最高{_score(max(scores))}分，"
                          f"最低{_score(min(scores))}分；其中{counts}。{_names(best)}等单位得分居前。")
    return paragraphs


def _cited(found: list[Problem], examples: int) -> str:
    """The category's examples, one per problem: the units with the same problem named together
    in the order they were found ("A、B等单位未按要求建立台帐"), the worst and most common first."""
    by_problem: dict[str, list[Problem]] = defaultdict(list)
    for problem in sorted(found, key=lambda p: (p.observed_at, p.unit)):
        by_problem[problem.description.strip().rstrip(_TRAILING)].append(problem)
    ranked = sorted(by_problem.items(), key=lambda kv: (-max(p.severity for p in kv[1]),
                                                         -len({p.unit for p in kv[1]}), kv[1][0].observed_at))
    cited = []
    for description, same in ranked[:examples]:
        units = list(dict.fromkeys(p.unit for p in same))
        cited.append(("、".join(units) + "等单位" if len(units) > 1 else units[0]) + description)
    return "；".join(cited)


def main_problems(problems: list[Problem], examples: int) -> list[str]:
    if not problems:
        return ["本次检查未发现需要通报的问题。"]
    by_category: dict[str, list[Problem]] = defaultdict(list)
    for problem in problems:
        by_category[problem.category].append(problem)
    # Most frequent first; equal counts keep the order the categories were first seen in.
    order = sorted(by_category, key=lambda c: -len(by_category[c]))
    paragraphs = []
    for index, category in enumerate(order, start=1):
        found = by_category[category]
        units = len({p.unit for p in found})
        cited = _cited(found, examples)
        paragraphs.append(f"{chinese_number(index)}是{category}方面问题{len(found)}个，涉及{units}个单位。"
                          f"如{cited}。")
    return paragraphs


def _tier_paragraphs(result: RoundResult, group: RankingGroup) -> list[str]:
    units = [result.unit(i) for i in group.unit_ids]
    lines, number = [], 0
    for tier in result.tiers_of(group):
        members = [u for u in units if u.tier == tier.name]
        if members:
            number += 1
            lines.append(f"{number}、{tier.heading}：{_names(members)}。")
    return lines


def ranking_section(result: RoundResult) -> Section:
    # In the order the office listed them (snapshots from before that was kept go by code).
    excluded = sorted(result.with_status(EXCLUDED),
                      key=lambda u: (u.excluded_position is None, u.excluded_position or 0, u.code))
    aside = f"（{'、'.join(u.name + u.reason for u in excluded)}暂未排序）" if excluded else ""
    # The seed's wording when the office weighed more than the checklist (综合评议).
    reviewed = any(u.adjustment or (u.entered and u.tier and u.score is None) for u in result.units)
    review = "，经检查组综合评议后" if reviewed else ""
    paragraphs = [f"经对照《{result.standard}》逐项量化打分{review}，对检查结果排序如下{aside}："]
    if result.sources:
        paragraphs = [f"按照{result.round_name}各项结果加权综合{review}，考核结果如下{aside}："]
    groups = [g for g in result.ranking if g.unit_ids]
    heading = "考核结果" if result.sources else "结果排序"
    if result.rank_by_group and len(groups) > 1:
        subsections: list[Section] = [{"heading": g.name or "未分组", "paragraphs": _tier_paragraphs(result, g)}
                                      for g in groups]
        return {"heading": heading, "paragraphs": paragraphs, "subsections": subsections}
    for g in groups:
        paragraphs += _tier_paragraphs(result, g)
    return {"heading": heading, "paragraphs": paragraphs}


def _status_note(result: RoundResult, unit: UnitResult) -> str:
    if unit.status == EXCLUDED:
        return f"暂未排序：{unit.reason}" if unit.reason else "暂未排序"
    return "未检查" if unit.status == NOT_VISITED else ""


def score_table(result: RoundResult) -> Attachment:
    """The attachment: every unit once, ranked ones in the printed order, then the others."""
    grouped = any(u.group for u in result.units)
    headers = ["序号", "单位", *(["考核组别"] if grouped else []), "得分", "等次", "说明"]
    rows = []
    # A unit no combined round scored is simply not part of the annual result.
    listed = [u for u in result.in_order() if not (result.sources and u.status == NOT_VISITED)]
    for number, unit in enumerate(listed, start=1):
        score = _score(unit.score) if unit.score is not None else ""
        rows.append([str(number), unit.name, *([unit.group] if grouped else []), score, unit.tier or "",
                     _status_note(result, unit)])
    kind = "结果" if result.sources else "得分"
    return {"title": f"{result.round_name}{kind}表", "headers": headers, "rows": rows}


def default_addressees(result: RoundResult) -> str:
    """Every group the round's units belong to, or the units in general when there are none."""
    groups = list(dict.fromkeys(u.group for u in result.units if u.group))
    return f"{'、'.join(groups)}各成员单位" if groups else "各有关单位"


def compose(result: RoundResult, problems: list[Problem], orders: OrderTally, *, requirements: str,
            closing: str, examples: int, dated: dt.date) -> Document:
    sections: list[Section] = [{"heading": "基本情况", "paragraphs": overview(result, problems, orders)}]
    if not result.sources:
        sections.append({"heading": "存在的主要问题", "paragraphs": main_problems(problems, examples)})
    sections += [ranking_section(result),
                 {"heading": "工作要求", "paragraphs": _lines(requirements) or ["（请填写工作要求）"]}]
    return {
        "issuer": f"{result.office}文件" if result.office else "",
        "number": "",
        "title": title(result),
        "addressees": default_addressees(result),
        "opening": [opening(result)],
        "sections": sections,
        "closing": _lines(closing),
        "office": result.office,
        "dated": chinese_date(dated),
        "attachments": [score_table(result)],
        "copies": "",
        "printer": result.office,
        "printed": "",
    }


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]

