"""Standard file: a 考核细则's items, one a row, grouped into sections (项目) by the first column.

Importing into a standard whose newest version is still a draft replaces that draft; once a
version is published (or a round scores against it) the file makes the next version, so a
round keeps the rules it started with.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from server.imports.base import YES_NO, Column, Context, Outcome, Problem, Record, Spec, choice, code, decimal
from server.imports.messages import say
from server.imports.writers import plain
from server.standards.models import ScoringModel, Standard, StandardItem, StandardSection

ZERO = Decimal(0)

COLUMNS = (
    Column("section", ("项目", "考核项目", "章节"), required=True, max_length=200),
    #: The section's points; left empty, the sum of its items'.
    Column("section_max_score", ("项目分值", "章节分值"), parse=decimal(ZERO)),
    Column("code", ("编号", "编码", "细则编号"), required=True, max_length=32, parse=code),
    Column("text", ("考核内容", "内容", "细则"), required=True),
    #: The problem category findings against the item are grouped under; the section's title when empty.
    Column("category", ("问题类别", "类别"), max_length=64),
    Column("max_score", ("分值", "满分"), required=True, parse=decimal(ZERO)),
    Column("deduction_per_instance", ("每处扣分", "每次扣分"), parse=decimal(ZERO)),
    Column("deduction_rule", ("扣分标准", "扣分办法", "评分标准")),
    Column("weight", ("权重",), parse=decimal(ZERO)),
    Column("photo_required", ("需拍照", "须拍照"), parse=choice(YES_NO)),
)

#: The header an export writes, in column order; an export imports back unchanged.
HEADERS = ("项目", "项目分值", "编号", "考核内容", "问题类别", "分值", "每处扣分", "扣分标准", "权重", "需拍照")


@dataclass(frozen=True)
class StandardTarget:
    code: str
    name: str
    full_score: Decimal = Decimal(100)
    scoring_model: ScoringModel = ScoringModel.DEDUCTION


def check(context: Context, records: list[Record]) -> list[Problem]:
    problems = []
    section_score: dict[str, tuple[Decimal, int]] = {}
    for rec in records:
        values = rec.values
        if values.get("section") and values.get("section_max_score"):
            first = section_score.setdefault(values["section"], (values["section_max_score"], rec.line))
            if first[0] != values["section_max_score"]:
                problems.append(rec.problem("section_max_score", say("section_points_differ", line=first[1],
                                                                     section=values["section"], points=first[0])))
        maximum, per = values.get("max_score"), values.get("deduction_per_instance")
        if maximum is not None and per and per > maximum:
            problems.append(rec.problem("deduction_per_instance", say("deduction_above_item", maximum=maximum)))
    if not records:
        problems.append(Problem(None, None, say("no_items")))
    return problems


def latest(session: sa.orm.Session, campaign_id: int, standard_code: str) -> Standard | None:
    return session.scalar(sa.select(Standard).where(Standard.campaign_id == campaign_id,
                                                    Standard.code == standard_code)
                          .order_by(Standard.version.desc()).limit(1))


def apply(context: Context, records: list[Record]) -> list[Outcome]:
    target: StandardTarget = context.target
    session = context.session
    current = latest(session, context.campaign.id, target.code)
    if current is not None and current.published_at is None:
        standard = current
        # In SQL: through the ORM, the sections' item lists would first null the items' section.
        session.execute(sa.delete(StandardItem).where(StandardItem.standard_id == standard.id))
        session.execute(sa.delete(StandardSection).where(StandardSection.standard_id == standard.id))
        context.report.notes.append(say("note.draft_replaced", version=standard.version, code=target.code))
    else:
        standard = Standard(campaign_id=context.campaign.id, code=target.code,
                            version=current.version + 1 if current else 1)
        session.add(standard)
        context.report.notes.append(say("note.new_version", code=target.code, version=standard.version))
    standard.name, standard.full_score, standard.scoring_model = target.name, target.full_score, target.scoring_model
    session.flush()
    sections: dict[str, StandardSection] = {}
    for rec in records:
        title = rec.values["section"]
        section = sections.get(title)
        if section is None:
            section = sections[title] = StandardSection(standard_id=standard.id, code=str(len(sections) + 1),
                                                        title=title, position=len(sections), max_score=ZERO)
        section.max_score = rec.values.get("section_max_score") or section.max_score + rec.values["max_score"]
    session.add_all(sections.values())
    session.flush()
    for position, rec in enumerate(records):
        values = rec.values
        session.add(StandardItem(
            standard_id=standard.id, section_id=sections[values["section"]].id, code=values["code"],
            text=values["text"], category=values.get("category") or values["section"], max_score=values["max_score"],
            deduction_per_instance=values.get("deduction_per_instance") or ZERO,
            deduction_rule=values.get("deduction_rule") or "", weight=values.get("weight") or Decimal(1),
            photo_required=values.get("photo_required") or False, position=position))
    session.flush()
    session.expire(standard, ["sections", "items"])
    return [Outcome.CREATED] * len(records)


def rows(standard: Standard) -> list[list[object]]:
    """The standard as the rows of its import file, header first."""
    out: list[list[object]] = [list(HEADERS)]
    for item in standard.items:
        section = item.section
        out.append([section.title, plain(section.max_score), item.code, item.text, item.category,
                    plain(item.max_score), plain(item.deduction_per_instance), item.deduction_rule,
                    plain(item.weight), "是" if item.photo_required else "否"])
    return out


SPEC = Spec(kind="standard", columns=COLUMNS, unique=("code",), check=check, apply=apply)
