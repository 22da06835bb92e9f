"""Results entered without phones: a score sheet imported or typed in, tiers given directly,
综合评议 adjustments with their reasons, and the clerk's order kept inside a tier."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.assessment.models import EnteredResult, RankingExclusion
from tests.office.conftest import write_csv, write_xlsx

STANDARD = [["项目", "编号", "考核内容", "分值"], ["组织领导", "1.1", "领导重视", 50], ["环境卫生", "2.1", "院内整洁", 50]]
UNITS = [["编码", "单位名称"], ["A", "市人大办"], ["B", "市纪委监察局"], ["C", "市政府办"], ["D", "市妇联"],
         ["E", "西铁安康办"]]
TIERS = [{"name": "好", "label": "好的部门、单位", "min_score": "90"}, {"name": "较好", "min_score": "80"},
         {"name": "一般"}]


@pytest.fixture
def round_id(cli, client, office, session, tmp_path):  # type: ignore[no-untyped-def]
    cli("import", "standard", str(write_xlsx(tmp_path / "s.xlsx", STANDARD)), "--code", "S", "--name", "考核细则")
    cli("import", "units", str(write_xlsx(tmp_path / "u.xlsx", UNITS)))
    cli("round", "create", "检查", "--mode", "open", "--starts", "2008-10-23", "--ends", "2008-10-30",
        "--standard", "S")
    cli("import", "teams", str(write_xlsx(tmp_path / "t.xlsx", [["检查组"], ["第一检查组"]])), "--round", "检查")
    cli("import", "assignments", str(write_xlsx(tmp_path / "a.xlsx", [["单位名称", "检查组"]] + [
        [name, "第一检查组"] for _code, name in UNITS[1:]])), "--round", "检查")
    rid = int(cli("round", "list").split("\t")[0])
    configured = client.put(f"/api/v1/rounds/{rid}/assessment", headers=office["supervisor"],
                            json={"tiers": TIERS, "rank_by_group": False})
    assert configured.status_code == 200, configured.get_json()
    return rid


def _ranking(client, headers, rid):  # type: ignore[no-untyped-def]
    body = client.get(f"/api/v1/rounds/{rid}/scores", headers=headers).get_json()
    by_id = {u["unit_id"]: u for u in body["units"]}
    return [(by_id[i]["name"], by_id[i]["tier"], by_id[i]["rank"]) for i in body["ranking"][0]["unit_ids"]], \
        {u["name"]: u for u in body["units"]}


def test_a_score_sheet_from_the_command_line(cli, client, office, round_id, session, tmp_path):
    sheet = write_xlsx(tmp_path / "得分.xlsx", [
        ["单位", "得分", "评议调整", "调整理由", "备注", "暂不排序原因"],
        ["市政府办", 88, 3, "参考片区指挥部平常检查情况，经检查组综合评议", "", ""],
        ["市人大办", 95.5, "", "", "资料齐全", ""],
        ["B", 82, "", "", "", ""],
        ["市妇联", 82, "", "", "", ""],
        ["西铁安康办", "", "", "", "", "因体制问题未解决"]])
    assert "5 created" in cli("import", "scores", str(sheet), "--round", "检查")
    ranking, units = _ranking(client, office["supervisor"], round_id)
    # 88 + 3 = 91 passes 90; 市纪委监察局 and 市妇联 tie at 82, in the sheet's order, sharing a rank.
    assert ranking == [("市人大办", "好", 1), ("市政府办", "好", 2), ("市纪委监察局", "较好", 3),
                       ("市妇联", "较好", 3)]
    assert (units["市政府办"]["score"], units["市政府办"]["adjustment"]) == ("91.00", "3.00")
    assert units["市政府办"]["adjustment_reason"].startswith("参考片区指挥部")
    assert units["市人大办"]["note"] == "资料齐全" and units["市人大办"]["entered"] is True
    assert (units["西铁安康办"]["status"], units["西铁安康办"]["reason"]) == ("excluded", "因体制问题未解决")
    printed = cli("report", "scores", str(round_id))
    assert "暂未排序  西铁安康办（因体制问题未解决）" in printed

    # The sheet replaces what was entered: a unit left out loses its result and its exclusion.
    smaller = write_csv(tmp_path / "得分.csv", [["单位名称", "得分", "暂不排序原因"], ["市人大办", "70", ""]])
    out = cli("import", "scores", str(smaller), "--round", "检查")
    assert "1 updated" in out and "results of 4 unit(s) not in this sheet removed" in out
    assert session.scalar(sa.select(sa.func.count()).select_from(EnteredResult)) == 1
    assert session.scalar(sa.select(sa.func.count()).select_from(RankingExclusion)) == 0


def test_only_tiers_keep_the_clerks_order(client, office, round_id):
    # The printed circular gives only tiers; within one, the order is the clerk's, not the codes'.
    rows = [{"unit": "市政府办", "tier": "好"}, {"unit": "市人大办", "tier": "好的部门、单位"},
            {"unit": "市妇联", "tier": "一般"}, {"unit": "市纪委监察局", "tier": "较好"},
            {"unit": "西铁安康办", "excluded_reason": "因体制问题未解决"}]
    response = client.put(f"/api/v1/rounds/{round_id}/results", headers=office["supervisor"], json={"results": rows})
    assert response.status_code == 200, response.get_json()
    ranking, units = _ranking(client, office["supervisor"], round_id)
    assert ranking == [("市政府办", "好", 1), ("市人大办", "好", 2), ("市纪委监察局", "较好", 3),
                       ("市妇联", "一般", 4)]
    assert units["市政府办"]["score"] is None

    circular = client.post(f"/api/v1/rounds/{round_id}/circulars", headers=office["supervisor"], json={}).get_json()
    texts = [p for s in circular["document"]["sections"] for p in s["paragraphs"]]
    assert "1、好的部门、单位：市政府办、市人大办。" in texts
    assert any("经检查组综合评议后" in t and "西铁安康办因体制问题未解决暂未排序" in t for t in texts)


def test_a_tier_given_overrides_the_score(client, office, round_id):
    rows = [{"unit": "市人大办", "score": "95"}, {"unit": "市政府办", "score": "99", "tier": "较好"},
            {"unit": "市妇联", "score": "85"}]
    assert client.put(f"/api/v1/rounds/{round_id}/results", headers=office["supervisor"],
                      json={"results": rows}).status_code == 200
    ranking, _units = _ranking(client, office["supervisor"], round_id)
    assert ranking == [("市人大办", "好", 1), ("市政府办", "较好", 2), ("市妇联", "较好", 3)]


def test_bad_results_are_refused_row_by_row_and_nothing_changes(cli, run_cli, client, office, round_id, session,
                                                                  tmp_path):
    cli("import", "scores", str(write_csv(tmp_path / "ok.csv", [["单位", "得分"], ["市人大办", "90"]])),
        "--round", "检查")
    bad = write_xlsx(tmp_path / "bad.xlsx", [
        ["单位", "得分", "等次", "评议调整", "调整理由"],
        ["市人大办", 101, "", "", ""],
        ["市审计局", 80, "", "", ""],
        ["市政府办", 80, "优秀", "", ""],
        ["市妇联", 80, "", -2, ""],
        ["A", 80, "", "", ""],
        ["市纪委监察局", "", "", "", ""],
        ["西铁安康办", "八十", "", "", ""]])
    result = run_cli("import", "scores", str(bad), "--round", "检查")
    assert result.exit_code == 2
    lines = [line.strip().split(":")[0] for line in result.output.splitlines()[1:]]
    assert lines == ["line 2, column 得分", "line 3, column 单位", "line 4, column 等次", "line 5, column 调整理由",
                     "line 6, column 单位", "line 7, column 单位", "line 8, column 得分"]
    assert "101 is more than the full score 100" in result.output

    typed = client.put(f"/api/v1/rounds/{round_id}/results", headers=office["supervisor"], json={"results": [
        {"unit": "市人大办", "score": "-1"}, {"unit": "市政府办", "score": "80", "adjustment": "30",
                                               "adjustment_reason": "评议"}]})
    assert typed.status_code == 422
    assert [e["field"] for e in typed.get_json()["errors"]] == ["rows.0.score", "rows.1.adjustment"]
    session.rollback()
    assert session.scalars(sa.select(EnteredResult.score)).all() == [90]

    by_admin = client.put(f"/api/v1/rounds/{round_id}/results", headers=office["admin"],
                          json={"results": [{"unit": "市人大办", "score": "80"}]})
    assert by_admin.status_code == 200  # an admin may; an inspector may not
    cli("create-user", "insp", "--role", "inspector", "--password", "Office-pass-2026")
    login = client.post("/api/v1/auth/login", json={"username": "insp", "password": "Office-pass-2026",
                                                    "device": {"name": "手机", "platform": "android"}})
    token = {"Authorization": f"Bearer {login.get_json()['token']}"}
    assert client.put(f"/api/v1/rounds/{round_id}/results", headers=token,
                      json={"results": []}).status_code == 403
