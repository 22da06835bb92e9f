"""The demo data: the CSV files beside this module, read into plain records, and the fixed
values (campaign, standard header, round, teams, accounts) too small to deserve a file."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import Any

from server.auth.models import Role
from server.rounds.models import RoundMode, RoundStatus
from server.standards.models import ScoringModel
from server.units.models import ZoneKind

SHANGHAI = dt.timezone(dt.timedelta(hours=8))

CAMPAIGN = {"name": "安康市双创工作", "office": "市双创办", "timezone": "Asia/Shanghai",
            # 双创动员会, the start seed 002 counts from.
            "starts_on": dt.date(2008, 6, 11), "ends_on": None}

#: In the order seed 000's 考核结果 lists them.
GROUPS = ("区域创建组", "片区创建组", "重点任务组", "共性任务组")

STANDARD = {"code": "SC-DEPT", "version": 1, "name": "市级部门和中省驻安单位双创目标任务考核细则",
            "scoring_model": ScoringModel.DEDUCTION, "full_score": Decimal(100),
            "published_at": dt.datetime(2008, 10, 20, 9, 0, tzinfo=SHANGHAI)}

# Closed: the demo's current work is in the patrol round (:func:`patrol_round`).
ROUND = {"name": "2008年下半年双创目标任务检查", "mode": RoundMode.OPEN, "status": RoundStatus.CLOSED,
         "starts_on": dt.date(2008, 10, 23), "ends_on": dt.date(2008, 10, 30)}



def patrol_round(today: dt.date, days: int) -> dict[str, object]:
    """The round of the demo's fortnight of patrols, ending today: the same teams and units."""
    starts = today - dt.timedelta(days=days)
    return {"name": f"{starts:%Y年%m月%d日}起双创常态化巡查", "mode": RoundMode.OPEN,
            "status": RoundStatus.ACTIVE, "starts_on": starts, "ends_on": today}


TEAMS = ("第一检查组", "第二检查组", "第三检查组", "第四检查组", "第五检查组")


@dataclass(frozen=True)
class DemoUser:
    role: Role
    username: str
    password: str
    display_name: str
    description: str
    #: The team this inspector belongs to (by name), and whether they lead it.
    team: str | None = None
    leads_team: bool = False
    #: A liaison's unit, by code.
    unit_code: str | None = None
    email: str = ""


_INSPECTOR_PASSWORD = "xuncha-insp-1"


def _inspectors() -> list[DemoUser]:
    users = []
    for number, team in enumerate(TEAMS, start=1):
        username = "inspector" if number == 1 else f"inspector{number}"
        users.append(DemoUser(Role.INSPECTOR, username, _INSPECTOR_PASSWORD, f"{team}组长（市双创办）",
                              f"{team}组长", team=team, leads_team=True))
    for number, team in enumerate(TEAMS, start=1):
        # Seed 002: the teams were 市双创办 staff together with 市政协委员.
        users.append(DemoUser(Role.INSPECTOR, f"member{number}", _INSPECTOR_PASSWORD,
                              f"{team}成员（市政协委员）", f"{team}成员", team=team))
    return users


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser(Role.ADMIN, "admin", "xuncha-admin-1", "系统管理员", "导入单位、责任区、考核细则和用户"),
    DemoUser(Role.SUPERVISOR, "supervisor", "xuncha-super-1", "市双创办督查科",
             "市双创办：问题审核、复查销号、通报"),
    *_inspectors(),
    DemoUser(Role.LIAISON, "liaison", "xuncha-liaison-1", "新华书店双创联络员",
             "新华书店联络员；本轮由第四检查组（inspector4、member4）检查",
             unit_code="G4-124", email="liaison@example.com"),
    DemoUser(Role.LIAISON, "liaison2", "xuncha-liaison-1", "市审计局双创联络员",
             "市审计局联络员；本轮由第五检查组（inspector5、member5）检查",
             unit_code="G4-001", email="liaison2@example.com"),
)

def is_published_password(username: str, password: str) -> bool:
    """Whether this is a demo account's password as printed and documented: anyone may know it."""
    return any(u.username == username.strip() and u.password == password for u in DEMO_USERS)


#: (role, username, password, description), as ``xuncha demo`` prints them.
DEMO_CREDENTIALS: list[tuple[str, str, str, str]] = [
    (u.role.value, u.username, u.password, u.description) for u in DEMO_USERS]


# -- the CSV files ------------------------------------------------------------------------------

@dataclass(frozen=True)
class UnitRow:
    code: str
    name: str
    group: str
    #: The name seed 000 prints for the same body, when seed 002 spells it differently.
    same_as: str
    #: Other spellings printed in the seeds' running text, never in a result list.
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class SectionRow:
    code: str
    title: str
    max_score: Decimal


@dataclass(frozen=True)
class ItemRow:
    section: str
    code: str
    text: str
    category: str
    max_score: Decimal
    deduction_per_instance: Decimal
    deduction_rule: str
    photo_required: bool


@dataclass(frozen=True)
class AssignmentRow:
    team: str
    unit_code: str
    unit_name: str


@dataclass(frozen=True)
class ZoneRow:
    code: str
    unit_code: str
    unit_name: str
    name: str
    kind: ZoneKind
    geometry: dict[str, Any]


class DemoDataError(ValueError):
    """A demo CSV file contradicts itself; raised before anything is written."""


def _rows(filename: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    text = resources.files(__package__).joinpath(filename).read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != columns:
        raise DemoDataError(f"{filename}: expected columns {','.join(columns)}, got {reader.fieldnames}")
    rows = []
    for line, row in enumerate(reader, start=2):
        if None in row or any(value is None for value in row.values()):
            raise DemoDataError(f"{filename}:{line}: expected {len(columns)} fields")
        # Names are matched exactly against circulars, so stray spaces would break the match.
        rows.append({key: value.strip() for key, value in row.items()})
    return rows


def _unique(filename: str, values: list[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise DemoDataError(f"{filename}: {what} {value!r} appears twice")
        seen.add(value)


def _bool(filename: str, value: str) -> bool:
    if value not in ("yes", "no"):
        raise DemoDataError(f"{filename}: photo_required must be yes or no, not {value!r}")
    return value == "yes"


@functools.cache
def units() -> tuple[UnitRow, ...]:
    rows = [UnitRow(r["code"], r["name"], r["group"], r["same_as"],
                    tuple(a for a in r["aliases"].split("|") if a))
            for r in _rows("units.csv", ("code", "name", "group", "same_as", "aliases"))]
    _unique("units.csv", [r.code for r in rows], "code")
    _unique("units.csv", [r.name for r in rows], "name")
    names = {r.name for r in rows}
    for row in rows:
        if row.group not in GROUPS:
            raise DemoDataError(f"units.csv: {row.name}: unknown group {row.group!r}")
        if row.same_as and row.same_as not in names:
            raise DemoDataError(f"units.csv: {row.name}: same_as names no unit: {row.same_as!r}")
        for alias in row.aliases:
            if alias in names:
                raise DemoDataError(f"units.csv: alias {alias!r} of {row.name} is itself a unit name")
    return tuple(rows)


def unit_aliases() -> dict[str, str]:
    """Spellings found only in the seeds' running text, mapped to the unit name they mean."""
    return {alias: row.name for row in units() for alias in row.aliases}


@functools.cache
def standard_sections() -> tuple[SectionRow, ...]:
    rows = [SectionRow(r["code"], r["title"], Decimal(r["max_score"]))
            for r in _rows("standard_sections.csv", ("code", "title", "max_score"))]
    _unique("standard_sections.csv", [r.code for r in rows], "code")
    return tuple(rows)


@functools.cache
def standard_items() -> tuple[ItemRow, ...]:
    filename = "standard_items.csv"
    rows = [ItemRow(r["section"], r["code"], r["text"], r["category"], Decimal(r["max_score"]),
                    Decimal(r["deduction_per_instance"]), r["deduction_rule"],
                    _bool(filename, r["photo_required"]))
            for r in _rows(filename, ("section", "code", "text", "category", "max_score",
                                      "deduction_per_instance", "deduction_rule", "photo_required"))]
    _unique(filename, [r.code for r in rows], "code")
    sections = {s.code: s for s in standard_sections()}
    for section in sections.values():
        total = sum((r.max_score for r in rows if r.section == section.code), Decimal(0))
        if total != section.max_score:
            raise DemoDataError(f"{filename}: items of section {section.code} add up to {total}, "
                                f"not {section.max_score}")
    for row in rows:
        if row.section not in sections:
            raise DemoDataError(f"{filename}: item {row.code} names no section: {row.section!r}")
    return tuple(rows)


@functools.cache
def round_assignments() -> tuple[AssignmentRow, ...]:
    filename = "round_2008_assignments.csv"
    rows = [AssignmentRow(r["team"], r["unit_code"], r["unit_name"])
            for r in _rows(filename, ("team", "unit_code", "unit_name"))]
    _unique(filename, [r.unit_code for r in rows], "unit")
    _check_unit_refs(filename, [(r.unit_code, r.unit_name) for r in rows])
    for row in rows:
        if row.team not in TEAMS:
            raise DemoDataError(f"{filename}: unknown team {row.team!r}")
    return tuple(rows)


@functools.cache
def zones() -> tuple[ZoneRow, ...]:
    filename = "zones.csv"
    rows = []
    for r in _rows(filename, ("code", "unit_code", "unit_name", "name", "kind", "geometry")):
        geometry = json.loads(r["geometry"])
        if geometry.get("type") not in ("Polygon", "MultiPolygon"):
            raise DemoDataError(f"{filename}: zone {r['code']} is not a Polygon or MultiPolygon")
        rows.append(ZoneRow(r["code"], r["unit_code"], r["unit_name"], r["name"], ZoneKind(r["kind"]),
                            geometry))
    _unique(filename, [r.code for r in rows], "code")
    _check_unit_refs(filename, [(r.unit_code, r.unit_name) for r in rows])
    return tuple(rows)


def _check_unit_refs(filename: str, refs: list[tuple[str, str]]) -> None:
    # The name column is there for people reading the file; it must agree with the code.
    by_code = {row.code: row.name for row in units()}
    for code, name in refs:
        if by_code.get(code) != name:
            raise DemoDataError(f"{filename}: unit {code} is {by_code.get(code)!r} in units.csv, not {name!r}")


def bbox(geometry: dict[str, Any]) -> tuple[float, float, float, float]:
    """(min_lon, min_lat, max_lon, max_lat) of a GeoJSON Polygon or MultiPolygon."""
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    points = [point for polygon in polygons for ring in polygon for point in ring]
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    return min(lons), min(lats), max(lons), max(lats)
