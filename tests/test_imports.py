"""``xuncha import``: units, zones and users from CSV and XLSX, all-or-nothing and idempotent."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path
from typing import Any, Sequence

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from server.audit.models import ActorKind, AuditEvent
from server.auth.models import Role, User
from server.campaigns.models import AssessmentGroup
from server.imports.base import ImportReport, Problem
from server.imports.services import SPECS, import_file
from server.units.models import ContactRole, Unit, UnitContact, Zone, ZoneKind
from tests import factories

UNIT_HEADER = ["code", "name", "group", "parent", "address", "liaison_name", "liaison_phone", "liaison_email"]
UNITS = [
    UNIT_HEADER,
    ["SJ", "市审计局", "共性任务组", "", "汉滨区巴山东路", "王芳", "0915-3212345", "wf@example.cn"],
    ["HB", "汉滨区", "区域创建组", "", "", "李强", "13800000001", ""],
    # Its parent comes further down the file.
    ["JB-1", "江北大道一段", "片区创建组", "JB", "", "", "", ""],
    ["JB", "江北大道片区", "片区创建组", "HB", "", "", "", ""],
]
SQUARE = {"type": "Polygon", "coordinates": [[[109.0, 32.6], [109.1, 32.6], [109.1, 32.7], [109.0, 32.7],
                                              [109.0, 32.6]]]}
BOWTIE = {"type": "Polygon", "coordinates": [[[109.0, 32.6], [109.1, 32.7], [109.1, 32.6], [109.0, 32.7],
                                              [109.0, 32.6]]]}


def write_csv(path: Path, rows: Sequence[Sequence[object]], *, bom: bool = False) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def write_xlsx(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


@pytest.fixture
def campaign(session):  # type: ignore[no-untyped-def]
    campaign = factories.campaign(session, name="安康市双创工作")
    session.commit()
    return campaign


@pytest.fixture
def run_import(session, clock, hasher, campaign):  # type: ignore[no-untyped-def]
    """Import through the service and commit as the command does; returns the report."""

    def run(kind: str, path: Path, *, dry_run: bool = False) -> ImportReport:
        report = import_file(session, clock, hasher, SPECS[kind], path, campaign=campaign, dry_run=dry_run)
        if report.ok and not dry_run:
            session.commit()
        else:
            session.rollback()
        session.rollback()  # a fresh transaction sees what the requests committed
        return report

    return run


def counts(report: ImportReport) -> tuple[int, int, int]:
    assert report.ok, [str(p) for p in report.problems]
    return report.created, report.updated, report.unchanged


def where(report: ImportReport) -> list[tuple[int | None, str | None]]:
    return [(p.line, p.column) for p in report.problems]


def snapshot(session, *models: Any) -> dict[str, list[tuple[Any, ...]]]:  # type: ignore[no-untyped-def]
    """Every column of every row, updated_at included, to prove nothing was rewritten."""
    session.rollback()  # a fresh transaction sees what the requests committed
    result = {}
    for model in models:
        columns = list(model.__table__.columns)
        rows = session.execute(sa.select(*columns).order_by(model.__table__.c.id)).all()
        result[model.__tablename__] = [tuple(row) for row in rows]
    return result


def count(session, model: Any) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(sa.select(sa.func.count()).select_from(model))


# -- units ------------------------------------------------------------------------------------

def test_units_csv_imports_units_groups_parents_and_liaisons(session, campaign, run_import, tmp_path):
    report = run_import("units", write_csv(tmp_path / "units.csv", UNITS))

    assert counts(report) == (4, 0, 0)
    units = {u.code: u for u in session.scalars(sa.select(Unit))}
    assert set(units) == {"SJ", "HB", "JB-1", "JB"}
    assert all(u.campaign_id == campaign.id for u in units.values())
    assert units["SJ"].name == "市审计局" and units["SJ"].address == "汉滨区巴山东路"
    assert units["JB-1"].parent_id == units["JB"].id and units["JB"].parent_id == units["HB"].id
    assert units["SJ"].parent_id is None
    groups = session.scalars(sa.select(AssessmentGroup).order_by(AssessmentGroup.position)).all()
    assert [g.name for g in groups] == ["共性任务组", "区域创建组", "片区创建组"]
    assert units["JB"].group_id == units["JB-1"].group_id == groups[2].id
    [contact] = units["SJ"].contacts
    assert (contact.role, contact.name, contact.phone, contact.email) == (
        ContactRole.LIAISON, "王芳", "0915-3212345", "wf@example.cn")
    assert [c.name for c in units["HB"].contacts] == ["李强"] and units["JB"].contacts == []

    [event] = session.scalars(sa.select(AuditEvent)).all()
    assert event.action == "import.units" and event.actor_kind is ActorKind.SYSTEM
    assert event.data == {"file": "units.csv", "rows": 4, "created": 4, "updated": 0, "unchanged": 0}


def test_importing_the_same_file_again_changes_nothing(session, run_import, tmp_path):
    path = write_csv(tmp_path / "units.csv", UNITS)
    assert counts(run_import("units", path)) == (4, 0, 0)
    before = snapshot(session, Unit, UnitContact, AssessmentGroup)

    assert counts(run_import("units", path)) == (0, 0, 4)
    assert snapshot(session, Unit, UnitContact, AssessmentGroup) == before
    assert count(session, AuditEvent) == 2  # one per import, even an idle one


def test_reimport_updates_only_what_changed_and_keeps_absent_columns(session, run_import, tmp_path):
    run_import("units", write_csv(tmp_path / "units.csv", UNITS))
    changed = [["code", "name", "liaison_name", "liaison_phone"],
               ["SJ", "市审计局", "王芳", "0915-3219999"],  # new phone for the same liaison
               ["HB", "汉滨区人民政府", "李强", "13800000001"]]  # renamed

    assert counts(run_import("units", write_csv(tmp_path / "changed.csv", changed))) == (0, 2, 0)
    units = {u.code: u for u in session.scalars(sa.select(Unit))}
    assert units["HB"].name == "汉滨区人民政府"
    assert [(c.name, c.phone, c.email) for c in units["SJ"].contacts] == [("王芳", "0915-3219999", "wf@example.cn")]
    # No address or group column in the second file: those stay as they were.
    assert units["SJ"].address == "汉滨区巴山东路" and units["SJ"].group is not None
    assert count(session, UnitContact) == 2


def test_one_bad_row_imports_nothing_and_names_line_and_column(session, run_import, tmp_path):
    rows = [UNITS[0], UNITS[1], ["HB", "", "区域创建组", "", "", "", "", ""], UNITS[3], UNITS[4]]
    report = run_import("units", write_csv(tmp_path / "units.csv", rows))

    assert report.problems == [Problem(3, "name", "must not be empty")]
    assert str(report.problems[0]) == "line 3, column name: must not be empty"
    assert count(session, Unit) == count(session, AssessmentGroup) == count(session, AuditEvent) == 0


def test_every_bad_row_is_reported(session, run_import, tmp_path):
    rows = [UNIT_HEADER,
            ["SJ", "", "", "", "", "", "", ""],
            ["OK", "好单位", "", "", "", "", "", ""],
            ["TEL", "电话错", "", "", "", "张三", "not a phone", "nope"],
            ["ORPHAN", "孤儿", "", "NOWHERE", "", "", "", ""],
            ["SELF", "自己", "", "SELF", "", "", "", ""],
            ["A B", "有空格", "", "", "", "", "13800000000", ""]]
    report = run_import("units", write_csv(tmp_path / "units.csv", rows))

    assert where(report) == [(2, "name"), (4, "liaison_phone"), (4, "liaison_email"), (5, "parent"),
                             (6, "parent"), (7, "code"), (7, "liaison_phone")]
    messages = [str(p) for p in report.problems]
    assert "no unit with code 'NOWHERE'" in messages[3] and "own parent" in messages[4]
    assert "without the liaison's name" in messages[6]
    assert count(session, Unit) == 0


def test_duplicate_code_in_file_names_both_lines(session, run_import, tmp_path):
    rows = [UNITS[0], UNITS[1], UNITS[2], ["SJ", "市审计局二", "", "", "", "", "", ""]]
    report = run_import("units", write_csv(tmp_path / "units.csv", rows))

    assert report.problems == [Problem(4, "code", "duplicate code 'SJ': lines 2 and 4")]
    assert count(session, Unit) == 0


def test_parent_loops_are_refused(session, run_import, tmp_path):
    rows = [["code", "name", "parent"], ["A", "甲", "B"], ["B", "乙", "C"], ["C", "丙", "A"], ["D", "丁", "A"]]
    report = run_import("units", write_csv(tmp_path / "units.csv", rows))

    assert where(report) == [(2, "parent"), (3, "parent"), (4, "parent")]
    assert "A → B → C → A" in report.problems[0].message
    assert count(session, Unit) == 0


def test_a_name_taken_by_another_unit_is_refused(session, campaign, run_import, tmp_path):
    factories.unit(session, campaign, code="OLD", name="市审计局")
    session.commit()
    report = run_import("units", write_csv(tmp_path / "units.csv", UNITS))
    assert report.problems == [Problem(2, "name", "already the name of unit OLD")]


def test_units_may_swap_names_in_one_file(session, run_import, tmp_path):
    run_import("units", write_csv(tmp_path / "units.csv", [["code", "name"], ["A", "甲"], ["B", "乙"], ["C", "丙"]]))
    swapped = [["code", "name"], ["A", "乙"], ["B", "丙"], ["C", "甲"], ["D", "丁"]]

    assert counts(run_import("units", write_csv(tmp_path / "swapped.csv", swapped))) == (1, 3, 0)
    assert dict(session.execute(sa.select(Unit.code, Unit.name)).all()) == {"A": "乙", "B": "丙", "C": "甲", "D": "丁"}


def test_a_database_refusal_is_reported_and_writes_nothing(session, campaign, clock, hasher, tmp_path):
    """Rows validated against a database that changed before the write (say, a second import)."""
    factories.unit(session, campaign, code="OTHER", name="市审计局")
    session.commit()
    blind = dataclasses.replace(SPECS["units"], check=lambda context, records: [])

    report = import_file(session, clock, hasher, blind, write_csv(tmp_path / "units.csv", UNITS), campaign=campaign)
    assert len(report.problems) == 1 and "the database refused the import" in report.problems[0].message
    assert (report.created, report.notes) == (0, [])
    session.commit()  # what the caller's transaction still holds is only what was there before
    assert session.scalars(sa.select(Unit.code)).all() == ["OTHER"] and count(session, AssessmentGroup) == 0


def test_unknown_and_missing_columns_are_named(session, run_import, tmp_path):
    rows = [["code", "单位名字", "lisison_phone"], ["SJ", "市审计局", "1"]]
    report = run_import("units", write_csv(tmp_path / "units.csv", rows))

    assert where(report) == [(1, "单位名字"), (1, "lisison_phone"), (1, "name"), (1, None)]
    assert report.problems[0].message == "unknown column"
    assert report.problems[2].message == "required column is missing; name it name / 名称 / 单位名称"
    assert report.problems[3].message.startswith("the columns this file may have are: code / 编码")
    assert count(session, Unit) == 0


def test_a_column_given_twice_or_a_value_without_a_column_is_refused(session, run_import, tmp_path):
    twice = run_import("units", write_csv(tmp_path / "twice.csv", [["code", "name", "名称"], ["SJ", "甲", "甲"]]))
    assert twice.problems == [Problem(1, "名称", "the name column is already given as 'name'")]

    # An unquoted comma in the address pushes a cell past the last column.
    shifted = tmp_path / "shifted.csv"
    shifted.write_text("code,name,address\nSJ,市审计局,巴山东路,3号\nHB,汉滨区,\n", encoding="utf-8")
    report = run_import("units", shifted)
    assert where(report) == [(2, "#4")] and "without a header" in report.problems[0].message
    assert count(session, Unit) == 0


def test_chinese_headers_with_bom(session, run_import, tmp_path):
    rows = [["编码", "单位名称", "考核组别", "上级单位", "地址", "联络员", "联系电话"],
            ["SJ", "市审计局", "共性任务组", "", "巴山东路", "王芳", "0915-3212345"],
            ["SJ-1", "审计事务所", "共性任务组", "SJ", "", "", ""]]
    path = write_csv(tmp_path / "单位.csv", rows, bom=True)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")

    assert counts(run_import("units", path)) == (2, 0, 0)
    units = {u.code: u for u in session.scalars(sa.select(Unit))}
    assert units["SJ-1"].parent_id == units["SJ"].id and units["SJ"].contacts[0].phone == "0915-3212345"


def test_chinese_headers_are_named_as_written_in_problems(run_import, tmp_path):
    rows = [["编码", "名称"], ["SJ", ""]]
    report = run_import("units", write_csv(tmp_path / "units.csv", rows, bom=True))
    assert str(report.problems[0]) == "line 2, column 名称: must not be empty"


def test_xlsx_imports_and_counts_lines_like_excel(session, run_import, tmp_path):
    rows = [["编码", "名称", "联络员", "联系电话"],
            ["SJ", "市审计局", "王芳", 13800000001],  # a phone typed as a number
            [None, None, None, None],  # a blank row still counts as a line
            ["HB", "汉滨区", None, None]]
    path = write_xlsx(tmp_path / "units.xlsx", rows)

    assert counts(run_import("units", path)) == (2, 0, 0)
    sj = session.scalar(sa.select(Unit).where(Unit.code == "SJ"))
    assert sj.contacts[0].phone == "13800000001"
    assert counts(run_import("units", path)) == (0, 0, 2)

    rows[3][1] = None
    report = run_import("units", write_xlsx(tmp_path / "bad.xlsx", rows))
    assert report.problems == [Problem(4, "名称", "must not be empty")]


def test_a_file_that_is_not_a_table_is_refused(run_import, tmp_path):
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("编码,名称\nSJ,市审计局\n".encode("gbk"))
    assert "not UTF-8" in run_import("units", gbk).problems[0].message
    assert "unsupported file type" in run_import("units", write_csv(tmp_path / "units.txt", UNITS)).problems[0].message
    fake = tmp_path / "fake.xlsx"
    fake.write_text("not a zip")
    assert "not a readable .xlsx" in run_import("units", fake).problems[0].message
    assert "header" in run_import("units", write_csv(tmp_path / "empty.csv", [])).problems[0].message


def test_dry_run_counts_but_writes_nothing(session, run_import, tmp_path):
    report = run_import("units", write_csv(tmp_path / "units.csv", UNITS), dry_run=True)
    assert counts(report) == (4, 0, 0) and report.dry_run
    assert count(session, Unit) == count(session, AssessmentGroup) == count(session, AuditEvent) == 0


# -- zones ------------------------------------------------------------------------------------

@pytest.fixture
def units(session, campaign):  # type: ignore[no-untyped-def]
    made = {code: factories.unit(session, campaign, code=code, name=name)
            for code, name in (("SJ", "市审计局"), ("XHSD", "市新华书店"))}
    session.commit()
    return made


def test_zones_import_with_bounding_box_and_chinese_kinds(session, units, run_import, tmp_path):
    feature = {"type": "Feature", "properties": {}, "geometry": SQUARE}
    multi = {"type": "MultiPolygon", "coordinates": [SQUARE["coordinates"]]}
    rows = [["code", "name", "unit", "kind", "geometry"],
            ["Z1", "审计局门前", "SJ", "门前四包", json.dumps(SQUARE)],
            ["Z2", "新华书店家属院", "XHSD", "compound", json.dumps(multi)],
            ["Z3", "巴山路", "SJ", "路段", json.dumps(feature)]]
    path = write_csv(tmp_path / "zones.csv", rows)

    assert counts(run_import("zones", path)) == (3, 0, 0)
    zones = {z.code: z for z in session.scalars(sa.select(Zone))}
    assert zones["Z1"].unit_id == units["SJ"].id and zones["Z1"].kind is ZoneKind.FRONTAGE
    assert zones["Z2"].kind is ZoneKind.COMPOUND and zones["Z3"].kind is ZoneKind.ROAD
    assert (zones["Z1"].min_lon, zones["Z1"].min_lat, zones["Z1"].max_lon, zones["Z1"].max_lat) == (
        109.0, 32.6, 109.1, 32.7)
    assert zones["Z1"].geometry == SQUARE and zones["Z3"].geometry == SQUARE
    assert zones["Z2"].geometry["type"] == "MultiPolygon"

    before = snapshot(session, Zone)
    assert counts(run_import("zones", path)) == (0, 0, 3)
    assert snapshot(session, Zone) == before


def test_zones_with_bad_geometry_are_refused(session, units, run_import, tmp_path):
    rows = [["code", "name", "unit", "kind", "geometry"],
            ["Z1", "好的", "SJ", "frontage", json.dumps(SQUARE)],
            ["Z2", "不是JSON", "SJ", "frontage", "{'type': 'Polygon'"],
            ["Z3", "自相交", "SJ", "frontage", json.dumps(BOWTIE)],
            ["Z4", "一个点", "SJ", "frontage", json.dumps({"type": "Point", "coordinates": [109.0, 32.6]})],
            ["Z5", "经纬度颠倒", "SJ", "frontage",
             json.dumps({"type": "Polygon", "coordinates": [[[32.6, 109.0], [32.7, 109.0], [32.7, 109.1],
                                                             [32.6, 109.0]]]})],
            ["Z6", "两个点", "SJ", "frontage",
             json.dumps({"type": "Polygon", "coordinates": [[[109.0, 32.6], [109.1, 32.6]]]})],
            ["Z7", "无单位", "NOPE", "广场", json.dumps(SQUARE)],
            ["Z8", "用了名称", "市审计局", "other", "NaN"]]
    report = run_import("zones", write_csv(tmp_path / "zones.csv", rows))

    assert where(report) == [(3, "geometry"), (4, "geometry"), (5, "geometry"), (6, "geometry"),
                             (7, "geometry"), (8, "unit"), (8, "kind"), (9, "unit"), (9, "geometry")]
    messages = [p.message for p in report.problems]
    assert messages[0].startswith("not valid JSON")
    assert "not a valid polygon" in messages[1] and "Self-intersection" in messages[1]
    assert "not Point" in messages[2] and "longitude first" in messages[3]
    assert "malformed Polygon" in messages[4]
    assert "no unit with code 'NOPE'" in messages[5] and "'广场' is not one of" in messages[6]
    assert "is the name of unit SJ" in messages[7]
    assert count(session, Zone) == 0


# -- users ------------------------------------------------------------------------------------

USER_HEADER = ["username", "display_name", "role", "unit", "phone", "email", "password"]


def test_users_import_generates_missing_passwords_once(session, units, campaign, hasher, run_import, tmp_path):
    rows = [USER_HEADER,
            ["wangfang", "王芳", "联络员", "SJ", "13800000001", "", ""],
            ["zhang", "张督查", "supervisor", "", "", "zhang@example.cn", "given-pass-1"],
            ["root", "管理员", "管理员", "", "", "", "given-pass-2"]]
    report = run_import("users", write_csv(tmp_path / "users.csv", rows))

    assert counts(report) == (3, 0, 0)
    assert list(report.generated_passwords) == ["wangfang"]
    users = {u.username: u for u in session.scalars(sa.select(User))}
    wang = users["wangfang"]
    assert wang.role is Role.LIAISON and wang.unit_id == units["SJ"].id and wang.campaign_id == campaign.id
    assert hasher.verify(wang.password_hash, report.generated_passwords["wangfang"])
    assert hasher.verify(users["zhang"].password_hash, "given-pass-1") and users["zhang"].unit_id is None
    assert users["root"].role is Role.ADMIN and users["root"].campaign_id is None


def test_users_reimport_never_changes_a_password(session, units, hasher, run_import, tmp_path):
    rows = [USER_HEADER, ["zhang", "张督查", "supervisor", "", "", "", "given-pass-1"],
            ["li", "李检查", "检查员", "", "", "", ""]]
    first = run_import("users", write_csv(tmp_path / "users.csv", rows))
    before = snapshot(session, User)

    again = run_import("users", write_csv(tmp_path / "users.csv", rows))
    assert counts(again) == (0, 0, 2) and again.generated_passwords == {}
    assert snapshot(session, User) == before

    rows[1][1], rows[1][6] = "张督查组长", "other-pass-9"
    rows[2][6] = "new-pass-77"
    changed = run_import("users", write_csv(tmp_path / "users.csv", rows))
    assert counts(changed) == (0, 1, 1)
    assert any("passwords of 2 existing account(s) left unchanged" in note for note in changed.notes)
    users = {u.username: u for u in session.scalars(sa.select(User))}
    assert users["zhang"].display_name == "张督查组长"
    assert hasher.verify(users["zhang"].password_hash, "given-pass-1")
    assert hasher.verify(users["li"].password_hash, first.generated_passwords["li"])


def test_users_breaking_the_rules_are_refused(session, units, run_import, tmp_path):
    rows = [USER_HEADER,
            ["orphan", "无单位联络员", "liaison", "", "", "", ""],
            ["wrong", "检查员带单位", "inspector", "SJ", "", "", ""],
            ["weak", "弱密码", "inspector", "", "", "", "12345678"],
            ["boss", "老板", "boss", "", "", "", ""],
            ["ghost", "幽灵", "liaison", "NOPE", "", "", ""]]
    report = run_import("users", write_csv(tmp_path / "users.csv", rows))

    assert where(report) == [(2, "unit"), (3, "unit"), (4, "password"), (5, "role"), (6, "unit")]
    messages = [p.message for p in report.problems]
    assert messages[0] == "a liaison must belong to a unit"
    assert messages[1] == "only liaisons belong to a unit"
    assert "common password" in messages[2] and "'boss' is not one of" in messages[3]
    assert messages[4].startswith("no unit with code 'NOPE'")  # and not also "must belong to a unit"
    assert count(session, User) == 0


def test_duplicate_usernames_are_refused(session, run_import, tmp_path):
    rows = [["用户名", "姓名", "角色"], ["li", "李一", "检查员"], ["li", "李二", "督查员"]]
    report = run_import("users", write_csv(tmp_path / "users.csv", rows))
    assert report.problems == [Problem(3, "用户名", "duplicate username 'li': lines 2 and 3")]
    assert count(session, User) == 0


# -- through the command ----------------------------------------------------------------------

def test_command_imports_and_reimports(run_cli, session, campaign, tmp_path):
    path = str(write_csv(tmp_path / "units.csv", UNITS))

    result = run_cli("import", "units", path)
    assert result.exit_code == 0, result.output
    assert "units from units.csv into campaign 安康市双创工作: 4 created, 0 updated, 0 unchanged" in result.output
    assert "new assessment group 区域创建组" in result.output
    assert count(session, Unit) == 4

    again = run_cli("import", "units", path)
    assert again.exit_code == 0, again.output
    assert "0 created, 0 updated, 4 unchanged" in again.output


def test_command_reports_bad_rows_and_exits_2(run_cli, session, campaign, tmp_path):
    rows = [UNITS[0], UNITS[1], ["HB", "", "", "", "", "", "", ""], ["X", "某单位", "", "NOPE", "", "", "", ""]]
    result = run_cli("import", "units", str(write_csv(tmp_path / "units.csv", rows)))

    assert result.exit_code == 2
    assert "units.csv: 2 problem(s); nothing was imported" in result.output
    assert "line 3, column name: must not be empty" in result.output
    assert "line 4, column parent: no unit with code 'NOPE'" in result.output
    assert count(session, Unit) == 0


def test_command_dry_run_writes_nothing(run_cli, session, campaign, tmp_path):
    result = run_cli("import", "units", str(write_csv(tmp_path / "units.csv", UNITS)), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "4 created" in result.output and "dry run: nothing was written" in result.output
    assert count(session, Unit) == 0


def test_command_prints_generated_passwords(run_cli, session, hasher, campaign, tmp_path):
    rows = [["username", "display_name", "role"], ["li", "李检查", "inspector"]]
    result = run_cli("import", "users", str(write_csv(tmp_path / "users.csv", rows)))
    assert result.exit_code == 0, result.output
    password = result.output.split("li\t", 1)[1].split()[0]
    user = session.scalar(sa.select(User).where(User.username == "li"))
    assert hasher.verify(user.password_hash, password)


def test_command_needs_a_campaign_when_there_are_several(run_cli, session, campaign, tmp_path):
    factories.campaign(session, name="安康市创卫")
    session.commit()
    path = str(write_csv(tmp_path / "units.csv", UNITS))

    ambiguous = run_cli("import", "units", path)
    assert ambiguous.exit_code == 1 and "several campaigns exist" in ambiguous.output
    unknown = run_cli("import", "units", path, "--campaign", "不存在")
    assert unknown.exit_code == 1 and "no campaign named '不存在'" in unknown.output
    assert count(session, Unit) == 0

    named = run_cli("import", "units", path, "--campaign", "安康市创卫")
    assert named.exit_code == 0, named.output
    session.rollback()  # end the read transaction above, which would not see the command's commit
    other = session.scalar(sa.select(sa.func.max(Unit.campaign_id)))
    assert other != campaign.id and count(session, Unit) == 4

