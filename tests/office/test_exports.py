"""Every list a clerk keeps comes back out as the file its import reads: units, users and a
round's entered results, over the API and the command line. Imported back, every row is
unchanged; a supervisor's users file holds only the people they manage, never a password."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from server.assessment.models import EnteredResult, RankingExclusion
from server.auth.models import User
from server.imports.readers import read_table
from server.units.models import ContactRole, Unit, UnitContact
from tests.office.conftest import PASSWORD, problems, write_csv
from tests.office.test_results import round_id  # noqa: F401 (a fixture)

UNITS = [["编码", "单位名称", "考核组别", "上级单位", "地址", "联络员", "联系电话", "联络员邮箱"],
         ["SJ", "市审计局", "共性任务组", "", "汉滨区巴山东路", "王芳", "0915-3212345", "wf@example.cn"],
         # its parent comes further down the file
         ["JB-1", "江北大道一段", "片区创建组", "JB", "", "", "", ""],
         ["JB", "江北大道片区", "片区创建组", "", "", "李强", "13800000001", ""],
         # text Excel would take for a formula: it stays text
         ["FX", "=市场监管局", "", "", "", "", "", ""]]
UNITS_OUT = [("单位编码", "单位名称", "考核组别", "上级单位编码", "地址", "联络员", "联系电话", "联络员邮箱"),
             ("SJ", "市审计局", "共性任务组", "", "汉滨区巴山东路", "王芳", "0915-3212345", "wf@example.cn"),
             ("JB-1", "江北大道一段", "片区创建组", "JB", "", "", "", ""),
             ("JB", "江北大道片区", "片区创建组", "", "", "李强", "13800000001", ""),
             ("FX", "=市场监管局", "", "", "", "", "", "")]
CAMPAIGN = "安康市双创工作"


def upload(client, url: str, headers: dict[str, str], data: bytes, name: str, **form: Any):  # type: ignore[no-untyped-def]
    return client.post(url, headers=headers, data={"file": (io.BytesIO(data), name), **form})


def table(data: bytes, fmt: str, tmp_path: Path) -> list[tuple[str, ...]]:
    """A downloaded file's rows as the import's reader sees them."""
    path = tmp_path / f"read.{fmt}"
    path.write_bytes(data)
    found = read_table(path)
    return [found.headers, *(row.cells for row in found.rows)]


def counts(response) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    body = response.get_json()
    assert response.status_code == 200, body
    return body["created"], body["updated"], body["unchanged"]


@pytest.fixture
def units(client, office, session, tmp_path):  # type: ignore[no-untyped-def]
    """The campaign's units, imported by its clerk, and another campaign with a unit of its own."""
    imported = upload(client, "/api/v1/units/import", office["supervisor"],
                      write_csv(tmp_path / "单位.csv", UNITS).read_bytes(), "单位.csv")
    assert counts(imported) == (4, 0, 0)
    # A second liaison, added in the console: the file carries the first, and the import keeps both.
    audit = session.scalar(sa.select(Unit).where(Unit.code == "SJ"))
    audit.contacts.append(UnitContact(role=ContactRole.LIAISON, name="赵敏", phone="13900000000"))
    audit.contacts.append(UnitContact(role=ContactRole.HEAD, name="刘局长"))
    session.commit()
    other = client.post("/api/v1/campaigns", headers=office["admin"], json={"name": "汉阴县创卫工作"})
    assert other.status_code == 201, other.get_json()
    theirs = upload(client, "/api/v1/units/import", office["admin"], "编码,单位名称\nHY,汉阴县政府办\n".encode(),
                    "hy.csv", campaign_id=str(other.get_json()["id"]))
    assert counts(theirs) == (1, 0, 0)
    session.rollback()
    return {**office, "own": audit.campaign_id, "other": other.get_json()["id"]}


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_units_export_and_import_back_unchanged(client, units, session, tmp_path, fmt):
    exported = client.get(f"/api/v1/units/export?format={fmt}", headers=units["supervisor"])
    assert exported.status_code == 200 and exported.mimetype.startswith(
        "text/csv" if fmt == "csv" else "application/vnd.openxmlformats")
    assert f"campaign-{units['own']}-units.{fmt}" in exported.headers["Content-Disposition"]
    assert table(exported.data, fmt, tmp_path) == UNITS_OUT
    if fmt == "xlsx":
        cell = load_workbook(io.BytesIO(exported.data)).active["B5"]
        assert (cell.value, cell.data_type) == ("=市场监管局", "s")
    else:
        assert exported.data.startswith("\ufeff单位编码,".encode())  # Excel reads UTF-8 only with the BOM

    back = upload(client, "/api/v1/units/import", units["supervisor"], exported.data, f"units.{fmt}")
    assert counts(back) == (0, 0, 4)
    session.rollback()
    liaisons = session.scalars(sa.select(UnitContact.name).join(Unit).where(Unit.code == "SJ")
                               .order_by(UnitContact.id)).all()
    assert liaisons == ["王芳", "赵敏", "刘局长"]

    # An admin names the campaign; another campaign's units are never in it.
    named = client.get(f"/api/v1/units/export?format={fmt}&campaign_id={units['own']}", headers=units["admin"])
    assert table(named.data, fmt, tmp_path) == UNITS_OUT
    theirs = client.get(f"/api/v1/units/export?format={fmt}&campaign_id={units['other']}", headers=units["admin"])
    assert table(theirs.data, fmt, tmp_path)[1:] == [("HY", "汉阴县政府办", "", "", "", "", "", "")]


def test_who_may_export_units(cli, client, units, bearer):
    supervisor, admin = units["supervisor"], units["admin"]
    assert client.get(f"/api/v1/units/export?campaign_id={units['other']}", headers=supervisor).status_code == 404
    several = client.get("/api/v1/units/export", headers=admin)
    assert several.status_code == 422 and several.get_json()["errors"][0]["field"] == "campaign_id"
    assert client.get("/api/v1/units/export?format=pdf", headers=supervisor).status_code == 422
    cli("create-user", "wangf", "--role", "liaison", "--unit", "SJ", "--campaign", CAMPAIGN, "--password", PASSWORD)
    cli("create-user", "zhang", "--role", "inspector", "--campaign", CAMPAIGN, "--password", PASSWORD)
    for username in ("wangf", "zhang"):
        # Their units are GET /units; the clerk's list is the office's.
        assert client.get("/api/v1/units/export", headers=bearer(username, PASSWORD)).status_code == 403


def test_units_from_the_command_line(cli, units, tmp_path):
    for name in ("单位.xlsx", "单位.csv"):
        assert "4 units" in cli("campaign", "export", "units", "--campaign", CAMPAIGN, "-o", str(tmp_path / name))
        assert table((tmp_path / name).read_bytes(), name[-4:].lstrip("."), tmp_path) == UNITS_OUT
        out = cli("import", "units", str(tmp_path / name), "--campaign", CAMPAIGN)
        assert "0 created, 0 updated, 4 unchanged" in out


def test_an_export_to_a_file_of_another_kind_is_refused(run_cli, units, tmp_path):
    result = run_cli("campaign", "export", "units", "--campaign", CAMPAIGN, "-o", str(tmp_path / "单位.xls"))
    assert result.exit_code == 2 and "name a .xlsx or .csv file" in result.output
    assert not (tmp_path / "单位.xls").exists()


# -- users ----------------------------------------------------------------------------------------

PEOPLE = [["用户名", "姓名", "角色", "单位编码", "电话", "邮箱", "初始密码"],
          ["zhang", "张三", "检查员", "", "13800000011", "zhang@example.cn", PASSWORD],
          ["li", "李四", "inspector", "", "", "", PASSWORD],
          ["wangf", "王芳", "联络员", "SJ", "0915-3212345", "", PASSWORD],
          ["sup2", "赵督查", "督查员", "", "", "", PASSWORD],
          ["root2", "二号管理员", "管理员", "", "", "", PASSWORD]]
HEADER = ("用户名", "姓名", "角色", "单位编码", "电话", "邮箱")
#: What a supervisor manages: their campaign's inspectors (a disabled one too) and liaisons.
MANAGED = [("li", "李四", "检查员", "", "", ""), ("zhang", "张三", "检查员", "", "13800000011", "zhang@example.cn"),
           ("wangf", "王芳", "联络员", "SJ", "0915-3212345", "")]
STAFF = [("admin", "admin", "管理员", "", "", ""), ("root2", "二号管理员", "管理员", "", "", ""),
         ("clerk", "王科员", "督查员", "", "", ""), ("sup2", "赵督查", "督查员", "", "", "")]


@pytest.fixture
def people(client, units, session, tmp_path):  # type: ignore[no-untyped-def]
    made = upload(client, "/api/v1/users/import", units["admin"],
                  write_csv(tmp_path / "人员.csv", PEOPLE).read_bytes(), "人员.csv", campaign_id=str(units["own"]))
    assert counts(made) == (5, 0, 0)
    theirs = upload(client, "/api/v1/users/import", units["admin"],
                    f"用户名,姓名,角色,初始密码\nhanyin,汉阴检查员,检查员,{PASSWORD}\n".encode(), "hy.csv",
                    campaign_id=str(units["other"]))
    assert counts(theirs) == (1, 0, 0)
    li = session.scalar(sa.select(User.id).where(User.username == "li"))
    session.rollback()
    disabled = client.post(f"/api/v1/users/{li}/disable", headers=units["supervisor"], json={"reason": "调离"})
    assert disabled.status_code == 200, disabled.get_json()
    return units


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_supervisors_users_file_holds_only_the_people_they_manage(client, people, session, tmp_path, fmt):
    exported = client.get(f"/api/v1/users/export?format={fmt}", headers=people["supervisor"])
    assert exported.status_code == 200
    assert table(exported.data, fmt, tmp_path) == [HEADER, *MANAGED]
    # No admin, no fellow supervisor, no other campaign's people, and never a password or its hash.
    text = exported.data.decode("utf-8-sig") if fmt == "csv" else str(table(exported.data, fmt, tmp_path))
    for absent in ("admin", "root2", "clerk", "sup2", "hanyin", "argon2", PASSWORD, "密码"):
        assert absent not in text
    hashes = session.scalars(sa.select(User.password_hash)).all()
    session.rollback()
    assert not any(h and h.encode() in exported.data for h in hashes)

    back = upload(client, "/api/v1/users/import", people["supervisor"], exported.data, f"users.{fmt}")
    assert counts(back) == (0, 0, 3)
    session.rollback()
    assert session.scalar(sa.select(User.active).where(User.username == "li")) is False  # still disabled


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_an_admins_users_file_holds_the_campaign_and_the_admins(client, people, session, tmp_path, fmt):
    exported = client.get(f"/api/v1/users/export?format={fmt}&campaign_id={people['own']}", headers=people["admin"])
    assert table(exported.data, fmt, tmp_path) == [HEADER, *STAFF, *MANAGED]
    back = upload(client, "/api/v1/users/import", people["admin"], exported.data, f"users.{fmt}",
                  campaign_id=str(people["own"]))
    assert counts(back) == (0, 0, 7)
    theirs = client.get(f"/api/v1/users/export?format={fmt}&campaign_id={people['other']}", headers=people["admin"])
    assert table(theirs.data, fmt, tmp_path) == [HEADER, *STAFF[:2], ("hanyin", "汉阴检查员", "检查员", "", "", "")]


def test_who_may_export_users(client, people, bearer):
    assert client.get(f"/api/v1/users/export?campaign_id={people['other']}",
                      headers=people["supervisor"]).status_code == 404
    for username in ("wangf", "zhang"):
        assert client.get("/api/v1/users/export", headers=bearer(username, PASSWORD)).status_code == 403


def test_users_from_the_command_line(cli, people, tmp_path):
    path = tmp_path / "人员.xlsx"
    assert "7 users" in cli("campaign", "export", "users", "--campaign", CAMPAIGN, "-o", str(path))
    assert table(path.read_bytes(), "xlsx", tmp_path) == [HEADER, *STAFF, *MANAGED]
    assert "0 created, 0 updated, 7 unchanged" in cli("import", "users", str(path), "--campaign", CAMPAIGN)


# -- a round's entered results ----------------------------------------------------------------------

RESULTS = [{"unit": "市政府办", "score": "88", "adjustment": "3", "adjustment_reason": "经检查组综合评议"},
           {"unit": "市人大办", "score": "95.5", "note": "资料齐全"},
           {"unit": "B", "tier": "较好"},
           {"unit": "市妇联", "score": "82.25", "adjustment": "-1.5", "adjustment_reason": "整改不及时"},
           {"unit": "西铁安康办", "excluded_reason": "因体制问题未解决"}]
SHEET = [("单位", "得分", "等次", "评议调整", "调整理由", "备注", "暂不排序原因"),
         ("市政府办", "88", "", "3", "经检查组综合评议", "", ""),
         ("市人大办", "95.5", "", "", "", "资料齐全", ""),
         ("市纪委监察局", "", "较好", "", "", "", ""),
         ("市妇联", "82.25", "", "-1.5", "整改不及时", "", ""),
         ("西铁安康办", "", "", "", "", "", "因体制问题未解决")]


def _stored(session) -> list[tuple[Any, ...]]:  # type: ignore[no-untyped-def]
    found = [tuple(row) for row in session.execute(sa.select(
        EnteredResult.unit_id, EnteredResult.score, EnteredResult.tier, EnteredResult.adjustment,
        EnteredResult.adjustment_reason, EnteredResult.note, EnteredResult.position).order_by(EnteredResult.unit_id))]
    found += [tuple(row) for row in session.execute(sa.select(
        RankingExclusion.unit_id, RankingExclusion.reason, RankingExclusion.position))]
    session.rollback()
    return found


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_entered_results_export_as_a_score_sheet_and_import_back_unchanged(client, office, round_id, session,
                                                                           tmp_path, fmt):
    headers = office["supervisor"]
    entered = client.put(f"/api/v1/rounds/{round_id}/results", headers=headers, json={"results": RESULTS})
    assert entered.status_code == 200, entered.get_json()
    before = _stored(session)
    exported = client.get(f"/api/v1/rounds/{round_id}/results/export?format={fmt}", headers=headers)
    assert exported.status_code == 200
    assert table(exported.data, fmt, tmp_path) == SHEET
    back = upload(client, f"/api/v1/rounds/{round_id}/results/import", headers, exported.data, f"results.{fmt}")
    assert counts(back) == (0, 0, 5) and back.get_json()["notes"] == []
    assert _stored(session) == before

    # The report is for reading: its rank and item columns are no score sheet to import.
    report = client.get(f"/api/v1/rounds/{round_id}/score-sheet", headers=headers)
    refused = upload(client, f"/api/v1/rounds/{round_id}/results/import", headers, report.data, "得分表.xlsx",
                     dry_run="true")
    assert refused.status_code == 422 and (1, "排名") in problems(refused.get_json())


def test_a_unit_left_out_of_the_ranking_without_a_result_is_in_the_sheet(cli, client, office, round_id, session,
                                                                         tmp_path):
    headers = office["supervisor"]
    client.put(f"/api/v1/rounds/{round_id}/results", headers=headers, json={"results": RESULTS[:2]})
    units = dict(session.execute(sa.select(Unit.name, Unit.id)).all())
    session.rollback()
    excluded = client.put(f"/api/v1/rounds/{round_id}/assessment", headers=headers, json={
        "exclusions": [{"unit_id": units["西铁安康办"], "reason": "因体制问题未解决"}]})
    assert excluded.status_code == 200, excluded.get_json()
    path = tmp_path / "得分.csv"
    assert "3 scores" in cli("round", "export", str(round_id), "scores", "-o", str(path))
    assert table(path.read_bytes(), "csv", tmp_path) == [*SHEET[:3], SHEET[5]]
    # Imported, it keeps the exclusion (a sheet without the unit would drop it), giving it a row.
    assert "1 created, 0 updated, 2 unchanged" in cli("import", "scores", str(path), "--round", str(round_id))
    assert "0 created, 0 updated, 3 unchanged" in cli("import", "scores", str(path), "--round", str(round_id))
    assert any(row[:2] == (units["西铁安康办"], "因体制问题未解决") for row in _stored(session))
