"""Units file: 被考核单位 with their assessment group, parent unit and liaison (联络员)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from server.campaigns.models import AssessmentGroup, Campaign
from server.imports.base import Column, Context, Outcome, Problem, Record, Spec, assign, code, email, phone
from server.imports.messages import say
from server.units.models import ContactRole, Unit, UnitContact

COLUMNS = (
    Column("code", ("编码", "单位编码", "代码"), required=True, max_length=64, parse=code),
    Column("name", ("名称", "单位名称"), required=True, max_length=200),
    Column("group", ("考核组别", "组别"), max_length=100),
    #: Code of the parent unit; it may be defined further down the same file.
    Column("parent", ("上级单位", "上级单位编码"), max_length=64, parse=code),
    Column("address", ("地址",), max_length=300),
    Column("liaison_name", ("联络员", "联络员姓名"), max_length=100),
    Column("liaison_phone", ("联系电话", "联络员电话"), max_length=40, parse=phone),
    Column("liaison_email", ("联络员邮箱", "邮箱", "电子邮箱"), max_length=200, parse=email),
)

#: The header an export writes, in column order; an export imports back unchanged.
HEADERS = ("单位编码", "单位名称", "考核组别", "上级单位编码", "地址", "联络员", "联系电话", "联络员邮箱")


def check(context: Context, records: list[Record]) -> list[Problem]:
    rows = context.session.execute(sa.select(Unit.id, Unit.code, Unit.name, Unit.parent_id)
                                   .where(Unit.campaign_id == context.campaign.id)).all()
    code_of = {id_: code_ for id_, code_, _name, _parent in rows}
    # The parent links as they will be once the file is written, to catch loops before writing.
    parent_of = {code_: code_of.get(parent_id) for _id, code_, _name, parent_id in rows}
    name_owner = {name: code_ for _id, code_, name, _parent in rows}
    in_file = {rec.values["code"] for rec in records if rec.values.get("code")}
    known = in_file | set(parent_of)
    for rec in records:
        if rec.values.get("code") and "parent" in rec.values:
            parent_of[rec.values["code"]] = rec.values["parent"] or None

    problems = []
    for rec in records:
        unit_code, parent = rec.values.get("code"), rec.values.get("parent")
        if unit_code and parent:
            if parent == unit_code:
                problems.append(rec.problem("parent", say("own_parent")))
            elif parent not in known:
                problems.append(rec.problem("parent", say("unknown_parent", code=parent,
                                                          campaign=context.campaign.name)))
            elif loop := _loop(parent_of, unit_code):
                problems.append(rec.problem("parent", say("parent_loop", loop=" → ".join(loop))))
        owner = name_owner.get(rec.values.get("name", ""))
        # A unit that is also in the file may be renamed by it; duplicates within the file are caught apart.
        if unit_code and owner is not None and owner != unit_code and owner not in in_file:
            problems.append(rec.problem("name", say("name_taken", code=owner)))
        if not rec.values.get("liaison_name"):
            for column in ("liaison_phone", "liaison_email"):
                if rec.values.get(column):
                    problems.append(rec.problem(column, say("contact_without_name")))
    return problems


def _loop(parent_of: dict[str, str | None], start: str) -> list[str] | None:
    chain, seen = [start], {start}
    current = parent_of.get(start)
    while current is not None:
        chain.append(current)
        if current == start:
            return chain
        if current in seen:
            return None  # a loop further up; the rows on it report it themselves
        seen.add(current)
        current = parent_of.get(current)
    return None


def apply(context: Context, records: list[Record]) -> list[Outcome]:
    session = context.session
    units = {unit.code: unit for unit in session.scalars(
        sa.select(Unit).where(Unit.campaign_id == context.campaign.id).options(selectinload(Unit.contacts)))}
    groups = _Groups(context)
    _free_names_taken_over(context, units, records)
    outcomes = []
    for rec in records:
        values = rec.values
        fields = {name: values[name] for name in ("name", "address") if name in values}
        if "group" in values:
            fields["group_id"] = groups.id_for(values["group"]) if values["group"] else None
        unit = units.get(values["code"])
        if unit is None:
            unit = units[values["code"]] = Unit(campaign_id=context.campaign.id, code=values["code"], **fields)
            session.add(unit)
            outcome = Outcome.CREATED
        else:
            outcome = Outcome.UPDATED if assign(unit, fields) else Outcome.UNCHANGED
        if _upsert_liaison(unit, values) and outcome is Outcome.UNCHANGED:
            outcome = Outcome.UPDATED
        outcomes.append(outcome)
    session.flush()  # parents defined further down the file now have ids
    for index, rec in enumerate(records):
        if "parent" in rec.values:
            parent = rec.values["parent"]
            changed = assign(units[rec.values["code"]], {"parent_id": units[parent].id if parent else None})
            if changed and outcomes[index] is Outcome.UNCHANGED:
                outcomes[index] = Outcome.UPDATED
    return outcomes


def _free_names_taken_over(context: Context, units: dict[str, Unit], records: list[Record]) -> None:
    """Park the names other rows take over (A↔B swaps, chains), as names are unique row by row."""
    in_file = {rec.values["code"] for rec in records}
    # Only units in the file can give up their name: they get their own new one below.
    holders = {unit.name: unit for unit in units.values() if unit.code in in_file}
    parked = False
    for rec in records:
        holder = holders.get(rec.values["name"])
        if holder is not None and holder.code != rec.values["code"]:
            holder.name = f"~{holder.code}~"
            parked = True
    if parked:
        context.session.flush()


def _upsert_liaison(unit: Unit, values: dict[str, str]) -> bool:
    """Make sure the named liaison is among the unit's contacts; whether anything changed.

    Contacts are matched by name, and others are left alone: they may have been added in
    the console by someone who knows more than this file.
    """
    name = values.get("liaison_name")
    if not name:
        return False
    fields = {field: values[f"liaison_{field}"] for field in ("phone", "email") if f"liaison_{field}" in values}
    for contact in unit.contacts:
        if contact.role is ContactRole.LIAISON and contact.name == name:
            return assign(contact, fields)
    unit.contacts.append(UnitContact(role=ContactRole.LIAISON, name=name, **fields))
    return True


class _Groups:
    """The campaign's assessment groups by name, creating the ones a file names first."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.by_name = {group.name: group for group in context.session.scalars(
            sa.select(AssessmentGroup).where(AssessmentGroup.campaign_id == context.campaign.id))}

    def id_for(self, name: str) -> int:
        group = self.by_name.get(name)
        if group is None:
            position = max((g.position for g in self.by_name.values()), default=-1) + 1
            group = self.by_name[name] = AssessmentGroup(campaign_id=self.context.campaign.id, name=name,
                                                         position=position)
            self.context.session.add(group)
            self.context.session.flush()
            self.context.report.notes.append(say("note.new_group", name=name))
        return group.id


def unit_rows(session: Session, campaign: Campaign,
              visible: sa.ColumnElement[bool] = sa.true()) -> list[list[object]]:
    """The campaign's units (those ``visible`` among them) as the rows of a units file, header
    first. A unit with several liaisons is written with its first: the import matches liaisons
    by name and leaves the others as they are."""
    codes = dict(session.execute(sa.select(Unit.id, Unit.code).where(Unit.campaign_id == campaign.id)).all())
    rows: list[list[object]] = [list(HEADERS)]
    for unit in session.scalars(sa.select(Unit).where(Unit.campaign_id == campaign.id, visible).order_by(Unit.id)
                                .options(selectinload(Unit.contacts), selectinload(Unit.group))):
        liaison = next((c for c in unit.contacts if c.role is ContactRole.LIAISON), None)
        rows.append([unit.code, unit.name, unit.group.name if unit.group else "",
                     codes.get(unit.parent_id, "") if unit.parent_id else "", unit.address,
                     *((liaison.name, liaison.phone, liaison.email) if liaison else ("", "", ""))])
    return rows


SPEC = Spec(kind="units", columns=COLUMNS, unique=("code", "name"), check=check, apply=apply)
