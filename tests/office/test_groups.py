"""Groups assessed apart (seed 000): each assessment group its own tiers, thresholds or quotas."""

from __future__ import annotations

import math
import random
from decimal import Decimal

import pytest

from tests.office.conftest import write_xlsx

#: Group → (units, share of 优秀); 重点任务组 goes by a threshold instead.
GROUPS = {"区域创建组": (13, "1"), "片区创建组": (15, "0.8"), "重点任务组": (12, None), "共性任务组": (20, "0.3")}
EXCELLENT_FROM = Decimal("85")


@pytest.fixture
def grouped_round(cli, client, office, tmp_path):  # type: ignore[no-untyped-def]
    units = [[f"{group[:2]}{i:02d}", f"{group[:2]}单位{i}", group] for group, (count, _q) in GROUPS.items()
             for i in range(1, count + 1)]
    cli("import", "units", str(write_xlsx(tmp_path / "u.xlsx", [["单位编码", "单位名称", "考核组别"], *units])))
    cli("import", "standard", str(write_xlsx(tmp_path / "s.xlsx", [["项目", "编号", "考核内容", "分值"],
                                                                  ["年度", "1", "年度目标任务", 100]])),
        "--code", "ND", "--name", "年度考核细则")
    cli("round", "create", "2019年度考核", "--mode", "年度考核", "--starts", "2019-01-01", "--ends", "2019-12-31",
        "--standard", "ND")
    cli("import", "teams", str(write_xlsx(tmp_path / "t.xlsx", [["检查组"], ["考核组"]])), "--round", "2019年度考核")
    cli("import", "assignments", str(write_xlsx(tmp_path / "a.xlsx", [["单位名称", "检查组"]] + [
        [u[1], "考核组"] for u in units])), "--round", "2019年度考核")
    rng = random.Random(19)
    scores = {u[1]: Decimal(rng.randrange(6000, 10000)) / 100 for u in units}
    while len(set(scores.values())) < len(scores):  # distinct, so the expected tiers need no tie rule
        scores = {u[1]: Decimal(rng.randrange(6000, 10000)) / 100 for u in units}
    cli("import", "scores", str(write_xlsx(tmp_path / "得分.xlsx", [["单位", "得分"]] + [
        [name, str(score)] for name, score in scores.items()])), "--round", "2019年度考核")
    round_id = cli("round", "list").split("\t")[0]
    return round_id, units, scores


def _groups_config():  # type: ignore[no-untyped-def]
    configured = []
    for group, (_count, quota) in GROUPS.items():
        if quota is None:
            configured.append({"name": group, "tier_method": "thresholds",
                               "tiers": [{"name": "优秀", "min_score": str(EXCELLENT_FROM)}, {"name": "良好"}]})
        else:
            configured.append({"name": group, "tier_method": "quotas",
                               "tiers": [{"name": "优秀", "quota": quota}, {"name": "良好"}]})
    return configured


def test_each_group_gets_its_own_share_of_excellent(client, office, grouped_round):
    round_id, units, scores = grouped_round
    headers = office["supervisor"]
    response = client.put(f"/api/v1/rounds/{round_id}/assessment", headers=headers,
                          json={"rank_by_group": True, "groups": _groups_config()})
    assert response.status_code == 200, response.get_json()
    assert [g["name"] for g in response.get_json()["groups"]] == list(GROUPS)

    expected = {}
    for group, (count, quota) in GROUPS.items():
        members = sorted((u[1] for u in units if u[2] == group), key=lambda name: -scores[name])
        if quota is None:
            expected.update({n: "优秀" if scores[n] >= EXCELLENT_FROM else "良好" for n in members})
        else:
            places = math.floor(Decimal(quota) * count)
            expected.update({n: "优秀" if i < places else "良好" for i, n in enumerate(members)})
    body = client.get(f"/api/v1/rounds/{round_id}/scores", headers=headers).get_json()
    assert {u["name"]: u["tier"] for u in body["units"]} == expected
    assert [g["name"] for g in body["ranking"]] == list(GROUPS)
    assert all([t["name"] for t in g["tiers"]] == ["优秀", "良好"] for g in body["ranking"])

    circular = client.post(f"/api/v1/rounds/{round_id}/circulars", headers=headers, json={}).get_json()
    ranking = next(s for s in circular["document"]["sections"] if s["heading"] == "结果排序")
    by_group = {sub["heading"]: sub["paragraphs"] for sub in ranking["subsections"]}
    for group in GROUPS:
        members = sorted((u[1] for u in units if u[2] == group), key=lambda name: -scores[name])
        lines = [(tier, [n for n in members if expected[n] == tier]) for tier in ("优秀", "良好")]
        printed = [(tier, names) for tier, names in lines if names]
        assert by_group[group] == [f"{i}、{tier}：{'、'.join(names)}。" for i, (tier, names) in
                                   enumerate(printed, start=1)]
    assert sum(expected[n] == "优秀" for n in expected if n.startswith("共性")) == 6  # floor(0.3 × 20)


def test_group_tiers_that_cannot_apply_are_refused(client, office, grouped_round):
    round_id, _units, _scores = grouped_round
    headers = office["supervisor"]
    before = client.get(f"/api/v1/rounds/{round_id}/assessment", headers=headers).get_json()
    bad = client.put(f"/api/v1/rounds/{round_id}/assessment", headers=headers, json={"groups": [
        {"name": "不存在组", "tier_method": "quotas", "tiers": [{"name": "优秀", "quota": "0.3"}, {"name": "良好"}]},
        {"name": "片区创建组", "tier_method": "quotas", "tiers": [{"name": "优秀"}, {"name": "良好"}]},
        {"name": "片区创建组", "tier_method": "thresholds",
         "tiers": [{"name": "优秀", "min_score": "80"}, {"name": "良好", "min_score": "90"}, {"name": "一般"}]}]})
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert [e["field"] for e in bad.get_json()["errors"]] == [
        "groups.0.name", "groups.1.tiers.0.quota", "groups.2.name", "groups.2.tiers.1.min_score"]
    one_list = client.put(f"/api/v1/rounds/{round_id}/assessment", headers=headers,
                          json={"rank_by_group": False, "groups": _groups_config()})
    assert one_list.status_code == 422 and one_list.get_json()["errors"][0]["field"] == "groups"
    assert client.get(f"/api/v1/rounds/{round_id}/assessment", headers=headers).get_json() == before
