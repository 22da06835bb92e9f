"""Setting up an assessment without Python: campaigns, standards (考核细则) with versions, rounds,
teams and assignments, from the command line and the API, every file checked whole."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from server.audit.models import AuditEvent
from server.campaigns.models import Campaign
from server.rounds.models import Assignment, Round, RoundMode, Team, TeamMember
from server.standards.models import Standard, StandardItem
from server.units.models import Unit, Zone
from tests.office.conftest import PASSWORD, problems, write_csv, write_xlsx

STANDARD = [
    ["项目", "编号", "考核内容", "分值", "每处扣分", "扣分标准", "需拍照"],
    ["组织领导", "1.1", "主要领导任双创领导小组组长", 5, 1, "每发现一次扣1分，扣完为止", "否"],
    ["组织领导", "1.2", "内部办事机构职责明确、运转正常", 5, 2.5, "每项扣2.5分", "否"],
    ["环境卫生", "3.1", "机关院内无杂物乱堆乱放", 10, 2, "发现一处扣2分", "是"],
]
UNITS = [["编码", "单位名称"], ["U1", "市人大办"], ["U2", "市纪委监察局"], ["U3", "市政府办"]]


def test_an_empty_database_says_how_to_begin(run_cli, tmp_path):
    result = run_cli("import", "units", str(write_xlsx(tmp_path / "units.xlsx", UNITS)))
    assert result.exit_code == 1 and "xuncha campaign create" in result.output


def test_campaigns_from_the_command_line_and_the_api(cli, client, office, session):
    cli("campaign", "update", "安康市双创工作", "--group", "共性任务组", "--group", "区域创建组")
    campaign = session.scalar(sa.select(Campaign))
    assert (campaign.office, str(campaign.starts_on)) == ("市双创办", "2008-06-11")
    assert [g.name for g in campaign.groups] == ["共性任务组", "区域创建组"]

    created = client.post("/api/v1/campaigns", headers=office["admin"], json={
        "name": "汉阴县创卫工作", "office": "县创卫办", "groups": ["片区创建组"]})
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["groups"] == ["片区创建组"]
    # Only an admin creates a campaign; a supervisor sees and changes their own alone.
    refused = client.post("/api/v1/campaigns", headers=office["supervisor"], json={"name": "再一个"})
    assert refused.status_code == 403
    listed = client.get("/api/v1/campaigns", headers=office["supervisor"]).get_json()
    assert [c["name"] for c in listed] == ["安康市双创工作"]
    other = created.get_json()["id"]
    assert client.patch(f"/api/v1/campaigns/{other}", headers=office["supervisor"],
                        json={"office": "x"}).status_code == 404
    bad = client.patch(f"/api/v1/campaigns/{campaign.id}", headers=office["supervisor"],
                       json={"timezone": "Mars/Olympus", "ends_on": "2008-01-01"})
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    duplicate = client.post("/api/v1/campaigns", headers=office["admin"], json={"name": "安康市双创工作"})
    assert duplicate.status_code == 409


def test_a_standard_is_imported_checked_versioned_and_exported(cli, run_cli, client, office, session, tmp_path):
    bad = write_xlsx(tmp_path / "bad.xlsx", [
        STANDARD[0], ["组织领导", "1.1", "主要领导任组长", "五", 1, "", "否"],
        ["组织领导", "1.1", "重复编号", 5, 6, "", "也许"]])
    result = run_cli("import", "standard", str(bad), "--code", "XB2008", "--name", "考核细则")
    assert result.exit_code == 2
    for fragment in ("line 2, column 分值", "line 3, column 编号: duplicate", "line 3, column 每处扣分",
                     "line 3, column 需拍照"):
        assert fragment in result.output
    assert session.scalar(sa.select(sa.func.count()).select_from(Standard)) == 0

    path = write_xlsx(tmp_path / "细则.xlsx", STANDARD)
    out = cli("import", "standard", str(path), "--code", "XB2008", "--name", "2008年下半年双创考核细则")
    assert "3 created" in out and "version 1 (draft)" in out
    # A draft is replaced by the next import of its code.
    cli("import", "standard", str(path), "--code", "XB2008", "--name", "2008年下半年双创考核细则")
    assert session.scalars(sa.select(Standard.version)).all() == [1]
    cli("standard", "publish", "XB2008")
    cli("import", "standard", str(path), "--code", "XB2008", "--name", "2008年下半年双创考核细则")
    versions = session.execute(sa.select(Standard.version, Standard.published_at.is_not(None))
                               .order_by(Standard.version)).all()
    assert [tuple(v) for v in versions] == [(1, True), (2, False)]
    item = session.scalar(sa.select(StandardItem).where(StandardItem.code == "3.1").limit(1))
    assert (item.category, item.max_score, item.photo_required) == ("环境卫生", 10, True)

    exported = tmp_path / "export.csv"
    cli("standard", "export", "XB2008", "-o", str(exported))
    reimport = run_cli("import", "standard", str(exported), "--code", "XB2008-COPY", "--name", "副本")
    assert reimport.exit_code == 0, reimport.output
    session.rollback()
    copy = session.scalar(sa.select(Standard).where(Standard.code == "XB2008-COPY"))
    original = session.scalar(sa.select(Standard).where(Standard.code == "XB2008", Standard.version == 2))
    fields = ("code", "text", "category", "max_score", "deduction_per_instance", "deduction_rule", "weight",
              "photo_required")
    assert [[getattr(i, f) for f in fields] for i in copy.items] == \
        [[getattr(i, f) for f in fields] for i in original.items]

    # The same through the API, by the campaign's supervisor.
    with path.open("rb") as handle:
        uploaded = client.post("/api/v1/standards/import", headers=office["supervisor"], data={
            "file": (handle, "细则.xlsx"), "code": "API", "name": "接口导入", "scoring_model": "weighted"})
    assert uploaded.status_code == 200, uploaded.get_json()
    assert uploaded.get_json()["created"] == 3
    session.rollback()
    api_standard = session.scalar(sa.select(Standard).where(Standard.code == "API"))
    sheet = client.get(f"/api/v1/standards/{api_standard.id}/export", headers=office["supervisor"])
    rows = list(load_workbook(io.BytesIO(sheet.data)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("项目", "项目分值", "编号") and rows[3][2] == "3.1" and rows[3][5] == 10
    with (tmp_path / "bad.xlsx").open("rb") as handle:
        refused = client.post("/api/v1/standards/import", headers=office["supervisor"],
                              data={"file": (handle, "bad.xlsx"), "code": "BAD", "name": "坏"})
    assert refused.status_code == 422 and (2, "分值") in problems(refused.get_json())
    session.rollback()
    assert session.scalar(sa.select(Standard).where(Standard.code == "BAD")) is None


@pytest.fixture
def standard_and_units(cli, office, tmp_path):  # type: ignore[no-untyped-def]
    cli("import", "standard", str(write_xlsx(tmp_path / "细则.xlsx", STANDARD)), "--code", "XB2008",
        "--name", "2008年下半年双创考核细则")
    cli("import", "units", str(write_xlsx(tmp_path / "units.xlsx", UNITS)))
    for username, name in (("zhang", "张三"), ("li", "李四"), ("wang", "王五")):
        cli("create-user", username, "--role", "inspector", "--name", name, "--password", PASSWORD)
    return office


def test_rounds_teams_and_assignments_from_the_command_line(cli, run_cli, session, standard_and_units, tmp_path):
    out = cli("round", "create", "2008年下半年双创目标任务检查", "--mode", "暗访", "--starts", "2008-10-23",
              "--ends", "2008-10-30", "--standard", "XB2008")
    assert "standard XB2008 version 1" in out
    round_ = session.scalar(sa.select(Round))
    assert round_.mode is RoundMode.UNANNOUNCED
    # The round scores against this version: it is frozen now.
    assert session.scalar(sa.select(Standard.published_at)) is not None

    teams = write_xlsx(tmp_path / "检查组.xlsx", [["检查组", "组长", "组员"], ["第一检查组", "张三", "李四、wang"],
                                                 ["第二检查组", "李四", ""]])
    assert "2 created" in cli("import", "teams", str(teams), "--round", round_.name)
    assignments = [["单位名称", "检查组"], ["市人大办", "第一检查组"], ["U2", "第二检查组"], ["市政府办", "第一检查组"]]
    path = write_xlsx(tmp_path / "分组.xlsx", assignments)
    assert "3 created" in cli("import", "assignments", str(path), "--round", str(round_.id))
    assert "3 unchanged" in cli("import", "assignments", str(path), "--round", str(round_.id))
    first = session.scalar(sa.select(Team).where(Team.name == "第一检查组"))
    members = session.scalars(sa.select(TeamMember.user_id).where(TeamMember.team_id == first.id)).all()
    assert len(members) == 3  # 组长 and the two 组员

    # Exported, the lists import back unchanged.
    cli("round", "export", round_.name, "teams", "-o", str(tmp_path / "teams-out.csv"))
    cli("round", "export", str(round_.id), "assignments", "-o", str(tmp_path / "assignments-out.xlsx"))
    assert (tmp_path / "teams-out.csv").read_text(encoding="utf-8-sig").splitlines() == [
        "检查组,组长,组员", "第一检查组,张三,李四、王五", "第二检查组,李四,"]
    assert "2 unchanged" in cli("import", "teams", str(tmp_path / "teams-out.csv"), "--round", round_.name)
    assert "3 unchanged" in cli("import", "assignments", str(tmp_path / "assignments-out.xlsx"),
                                "--round", round_.name)

    cli("round", "update", str(round_.id), "--status", "active", "--ends", "2008-10-31")
    session.refresh(round_)
    assert (round_.status.value, str(round_.ends_on)) == ("active", "2008-10-31")


def test_a_bad_assignment_file_reports_every_row_and_writes_nothing(cli, run_cli, session, standard_and_units,
                                                                      tmp_path):
    cli("round", "create", "检查", "--mode", "open", "--starts", "2008-10-23", "--ends", "2008-10-30",
        "--standard", "XB2008")
    cli("import", "teams", str(write_csv(tmp_path / "teams.csv", [["检查组"], ["第一检查组"]])), "--round", "检查")
    bad_teams = write_csv(tmp_path / "bad-teams.csv", [["检查组", "组员"], ["第二检查组", "赵六、张三"]])
    result = run_cli("import", "teams", str(bad_teams), "--round", "检查")
    assert result.exit_code == 2 and "line 2, column 组员: no inspector or supervisor '赵六'" in result.output

    wrong_header = write_xlsx(tmp_path / "h.xlsx", [["单位", "小组"], ["市人大办", "第一检查组"]])
    result = run_cli("import", "assignments", str(wrong_header), "--round", "检查")
    assert result.exit_code == 2 and "column 小组: unknown column" in result.output

    bad = write_xlsx(tmp_path / "bad.xlsx", [
        ["单位名称", "检查组"], ["市人大办", "第一检查组"], ["市人大办", "第一检查组"], ["U1", "第一检查组"],
        ["市审计局", "第一检查组"], ["市政府办", "第九检查组"]])
    result = run_cli("import", "assignments", str(bad), "--round", "检查")
    assert result.exit_code == 2, result.output
    session.rollback()
    lines = [line.strip() for line in result.output.splitlines()[1:]]
    assert [line.split(":")[0] for line in lines] == [
        "line 3, column 单位名称", "line 4, column 单位名称", "line 5, column 单位名称", "line 6, column 检查组"]
    assert "no team '第九检查组'" in lines[3] and "第一检查组" in lines[3]
    assert session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 0


def test_rounds_and_assignments_through_the_api(client, session, standard_and_units, tmp_path):
    headers = standard_and_units["supervisor"]
    created = client.post("/api/v1/rounds", headers=headers, json={
        "name": "第三季度考核", "mode": "quarterly", "starts_on": "2008-09-01", "ends_on": "2008-09-30",
        "standard_code": "XB2008"})
    assert created.status_code == 201, created.get_json()
    round_id = created.get_json()["id"]
    backwards = client.patch(f"/api/v1/rounds/{round_id}", headers=headers, json={"ends_on": "2008-08-01"})
    assert backwards.status_code == 422
    assert client.patch(f"/api/v1/rounds/{round_id}", headers=headers, json={"status": "active"}).status_code == 200

    teams = write_xlsx(tmp_path / "teams.xlsx", [["检查组", "组长"], ["第一检查组", "张三"]])
    with teams.open("rb") as handle:
        response = client.post(f"/api/v1/rounds/{round_id}/teams/import", headers=headers,
                               data={"file": (handle, "teams.xlsx")})
    assert response.status_code == 200 and response.get_json()["created"] == 1
    path = write_xlsx(tmp_path / "a.xlsx", [["单位名称", "检查组"], ["市人大办", "第一检查组"], ["市政府办", "第二组"]])
    with path.open("rb") as handle:
        refused = client.post(f"/api/v1/rounds/{round_id}/assignments/import", headers=headers,
                              data={"file": (handle, "a.xlsx")})
    assert refused.status_code == 422 and problems(refused.get_json()) == [(3, "检查组")]
    fixed = write_xlsx(tmp_path / "b.xlsx", [["单位名称", "检查组"], ["市人大办", "第一检查组"]])
    with fixed.open("rb") as handle:
        dry = client.post(f"/api/v1/rounds/{round_id}/assignments/import", headers=headers,
                          data={"file": (handle, "b.xlsx"), "dry_run": "true"})
    assert dry.status_code == 200 and dry.get_json()["created"] == 1
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 0
    with fixed.open("rb") as handle:
        client.post(f"/api/v1/rounds/{round_id}/assignments/import", headers=headers, data={"file": (handle, "b.xlsx")})
    exported = client.get(f"/api/v1/rounds/{round_id}/assignments/export?format=csv", headers=headers)
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    assert exported.data.decode("utf-8-sig").splitlines() == ["检查组,单位名称", "第一检查组,市人大办"]
    assert client.get(f"/api/v1/rounds/{round_id}/teams/export?format=pdf", headers=headers).status_code == 422
    detail = client.get(f"/api/v1/rounds/{round_id}", headers=headers).get_json()
    assert [len(t["unit_ids"]) for t in detail["teams"]] == [1]
    session.rollback()
    assert session.scalar(sa.select(AuditEvent.action).where(AuditEvent.action == "import.assignments"))

    inspector = client.post("/api/v1/auth/login", json={"username": "zhang", "password": PASSWORD,
                                                         "device": {"name": "手机", "platform": "android"}})
    token = {"Authorization": f"Bearer {inspector.get_json()['token']}"}
    assert client.post("/api/v1/rounds", headers=token, json={}).status_code == 403
    assert client.patch(f"/api/v1/rounds/{round_id}", headers=token, json={"status": "closed"}).status_code == 403


def test_units_and_zones_through_the_api(client, session, office, tmp_path):
    headers = office["supervisor"]

    def post(kind: str, path, **form: str):  # type: ignore[no-untyped-def]
        with path.open("rb") as handle:
            return client.post(f"/api/v1/{kind}/import", headers=headers, data={"file": (handle, path.name), **form})

    units = write_xlsx(tmp_path / "单位.xlsx", [["序号", "单位编码", "单位名称", "考核组别", "上级单位"],
                                                 [1, "U1", "市人大办", "共性任务组", ""], [2, "U2", "市人大办机关党委", "", "U1"]])
    dry = post("units", units, dry_run="true")
    assert dry.status_code == 200 and (dry.get_json()["created"], dry.get_json()["dry_run"]) == (2, True)
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(Unit)) == 0
    done = post("units", units).get_json()
    assert (done["created"], done["notes"]) == (2, ["new assessment group 共性任务组"])
    assert post("units", units).get_json()["unchanged"] == 2

    bad = write_xlsx(tmp_path / "坏.xlsx", [["单位编码", "单位名称"], ["U3", ""], ["U3", "市政协办"], ["U 4", "市审计局"]])
    refused = post("units", bad)
    assert refused.status_code == 422 and problems(refused.get_json()) == [(2, "单位名称"), (3, "单位编码"),
                                                                            (4, "单位编码")]

    ring = [[109.02, 32.68], [109.03, 32.68], [109.03, 32.69], [109.02, 32.68]]
    outline = '{"type": "Polygon", "coordinates": [%s]}' % ring
    zones = write_csv(tmp_path / "责任区.csv", [["编码", "名称", "单位编码", "类型", "范围"],
                                             ["Z1", "人大门前", "U1", "门前四包", outline],
                                             ["Z2", "书店门前", "U9", "门前四包", outline]])
    refused = post("zones", zones)
    assert refused.status_code == 422 and problems(refused.get_json()) == [(3, "单位编码")]
    fixed = write_csv(tmp_path / "责任区.csv", [["编码", "名称", "单位编码", "类型", "范围"],
                                             ["Z1", "人大门前", "U1", "门前四包", outline]])
    assert post("zones", fixed).get_json()["created"] == 1
    session.rollback()
    assert session.scalar(sa.select(Zone.name)) == "人大门前"
    assert session.scalar(sa.select(sa.func.count()).select_from(Unit)) == 2
