"""An annual result (年度考核) combining a year's rounds by the weights the office sets, ranked
in four groups each with its own share of 优秀 (seed 000)."""

from __future__ import annotations

import math
import random
from decimal import ROUND_HALF_UP, Decimal

import pytest

from tests.office.conftest import write_xlsx

GROUPS = {"区域创建组": (8, "0.5"), "片区创建组": (10, "0.8"), "重点任务组": (9, "0.3"), "共性任务组": (12, "0.25")}
WEIGHTS = {"平时检查": Decimal("0.4"), "季度考核": Decimal("0.6")}
CENT = Decimal("0.01")


def _round(cli, tmp_path, name, mode, units, scores=None):  # type: ignore[no-untyped-def]
    cli("round", "create", name, "--mode", mode, "--starts", "2019-01-01", "--ends", "2019-12-31", "--standard", "ND")
    if scores is not None:
        cli("import", "teams", str(write_xlsx(tmp_path / f"{name}t.xlsx", [["检查组"], ["一组"]])), "--round", name)
        cli("import", "assignments", str(write_xlsx(tmp_path / f"{name}a.xlsx", [["单位名称", "检查组"]] + [
            [u, "一组"] for u in units])), "--round", name)
        cli("import", "scores", str(write_xlsx(tmp_path / f"{name}s.xlsx", [["单位", "得分"]] + [
            [u, str(scores[u])] for u in units if u in scores])), "--round", name)
    return next(line.split("\t")[0] for line in cli("round", "list").splitlines() if f"\t{name}\t" in line)


@pytest.fixture
def year(cli, client, office, tmp_path):  # type: ignore[no-untyped-def]
    units = {f"{group[:2]}单位{i}": group for group, (count, _q) in GROUPS.items() for i in range(1, count + 1)}
    cli("import", "units", str(write_xlsx(tmp_path / "u.xlsx", [["单位编码", "单位名称", "考核组别"]] + [
        [f"U{n:03d}", name, group] for n, (name, group) in enumerate(units.items())])))
    cli("import", "standard", str(write_xlsx(tmp_path / "s.xlsx", [["项目", "编号", "考核内容", "分值"],
                                                                  ["目标", "1", "目标任务", 100]])),
        "--code", "ND", "--name", "年度考核细则")
    rng = random.Random(2019)
    scores = {kind: {u: Decimal(rng.randrange(6000, 10000)) / 100 for u in units} for kind in WEIGHTS}
    # One unit missed the quarterly assessment: its annual score is its other round's, not a zero.
    missing = "共性单位3"
    del scores["季度考核"][missing]
    ids = {kind: _round(cli, tmp_path, f"2019年{kind}", kind, list(units), scores[kind]) for kind in WEIGHTS}
    annual = _round(cli, tmp_path, "2019年度考核", "年度考核", list(units))
    return units, scores, ids, annual, missing


def test_the_annual_result_combines_rounds_by_weight_in_each_groups_tiers(client, office, year):
    units, scores, ids, annual, missing = year
    headers = office["supervisor"]
    groups = [{"name": group, "tier_method": "quotas", "tiers": [{"name": "优秀", "quota": share}, {"name": "良好"}]}
              for group, (_count, share) in GROUPS.items()]
    response = client.put(f"/api/v1/rounds/{annual}/assessment", headers=headers, json={
        "rank_by_group": True, "groups": groups,
        "sources": [{"round_id": int(ids[kind]), "weight": str(weight)} for kind, weight in WEIGHTS.items()]})
    assert response.status_code == 200, response.get_json()

    def combined(unit: str) -> Decimal:
        parts = {kind: scores[kind][unit] for kind in WEIGHTS if unit in scores[kind]}
        total = sum(WEIGHTS[kind] for kind in parts)
        return (sum(WEIGHTS[kind] * s for kind, s in parts.items()) / total).quantize(CENT, ROUND_HALF_UP)

    expected_tier = {}
    for group, (count, share) in GROUPS.items():
        members = sorted((u for u, g in units.items() if g == group), key=lambda u: -combined(u))
        places = math.floor(Decimal(share) * count)
        # Ties at the quota's edge would move down together; the fixture's scores have none there.
        assert places == count or combined(members[places - 1]) != combined(members[places])
        expected_tier.update({u: "优秀" if i < places else "良好" for i, u in enumerate(members)})

    body = client.get(f"/api/v1/rounds/{annual}/scores", headers=headers).get_json()
    got = {u["name"]: u for u in body["units"]}
    assert {name: (u["group"], u["tier"]) for name, u in got.items()} == \
        {name: (units[name], expected_tier[name]) for name in units}
    assert {name: Decimal(u["score"]) for name, u in got.items()} == {name: combined(name) for name in units}
    assert got[missing]["parts"] == {ids["平时检查"]: f"{scores['平时检查'][missing]:.2f}", ids["季度考核"]: None}
    assert got[missing]["score"] == f"{scores['平时检查'][missing]:.2f}"

    # The office may still set a combined unit's result by hand, as for any round.
    response = client.put(f"/api/v1/rounds/{annual}/results", headers=headers,
                          json={"results": [{"unit": missing, "tier": "优秀"}]})
    assert response.status_code == 200, response.get_json()
    after = client.get(f"/api/v1/rounds/{annual}/scores", headers=headers).get_json()
    assert next(u["tier"] for u in after["units"] if u["name"] == missing) == "优秀"


def test_rounds_that_cannot_be_combined_are_refused(client, office, year):
    _units, _scores, ids, annual, _missing = year
    headers = office["supervisor"]
    first, second = int(ids["平时检查"]), int(ids["季度考核"])
    bad = client.put(f"/api/v1/rounds/{annual}/assessment", headers=headers, json={"sources": [
        {"round_id": int(annual), "weight": "1"}, {"round_id": first, "weight": "1"},
        {"round_id": first, "weight": "2"}, {"round_id": 9999, "weight": "1"}]})
    assert bad.status_code == 422
    assert [e["field"] for e in bad.get_json()["errors"]] == [
        "sources.0.round_id", "sources.2.round_id", "sources.3.round_id"]
    assert client.put(f"/api/v1/rounds/{annual}/assessment", headers=headers, json={"sources": [
        {"round_id": first, "weight": "1"}]}).status_code == 200
    # One level only: a combined round is not combined again, nor does a source combine.
    nested = client.put(f"/api/v1/rounds/{second}/assessment", headers=headers, json={"sources": [
        {"round_id": int(annual), "weight": "1"}]})
    assert nested.status_code == 422 and nested.get_json()["errors"][0]["field"] == "sources.0.round_id"
    into = client.put(f"/api/v1/rounds/{first}/assessment", headers=headers, json={"sources": [
        {"round_id": second, "weight": "1"}]})
    assert into.status_code == 422 and into.get_json()["errors"][0]["field"] == "sources"
    zero = client.put(f"/api/v1/rounds/{annual}/assessment", headers=headers, json={"sources": [
        {"round_id": first, "weight": "0"}]})
    assert zero.status_code == 422


def test_the_annual_circular_has_its_own_wording_and_lists_only_the_units_assessed(cli, client, office, year,
                                                                                      tmp_path):
    units, _scores, ids, annual, _missing = year
    headers = office["supervisor"]
    # A unit of the campaign that no combined round assessed is no part of the annual result.
    cli("import", "units", str(write_xlsx(tmp_path / "extra.xlsx", [["单位编码", "单位名称", "考核组别"],
                                                                    ["X001", "新设单位", "共性任务组"]])))
    response = client.put(f"/api/v1/rounds/{annual}/assessment", headers=headers, json={
        "rank_by_group": True, "tier_method": "quotas", "tiers": [{"name": "优秀", "quota": "0.3"}, {"name": "良好"}],
        "sources": [{"round_id": int(ids[kind]), "weight": str(weight)} for kind, weight in WEIGHTS.items()]})
    assert response.status_code == 200, response.get_json()
    circular = client.post(f"/api/v1/rounds/{annual}/circulars", headers=headers, json={}).get_json()
    document = circular["document"]
    text = "".join([document["title"], *document["opening"],
                    *(p for s in document["sections"] for p in s["paragraphs"] + [
                        q for sub in s.get("subsections", []) for q in sub["paragraphs"]])])
    assert document["title"] == "关于2019年度考核结果的通报"
    assert document["opening"] == [("市双创办按照《年度考核细则》，综合2019年平时检查（权重0.4）、2019年季度考核（权重0.6）结果，"
                                    f"对{len(units)}个单位进行了2019年度考核。现将考核结果通报如下：")]
    assert [s["heading"] for s in document["sections"]] == ["基本情况", "考核结果", "工作要求"]
    for absent in ("检查组", "未检查", "新设单位", "1月1日"):
        assert absent not in text
    [table] = document["attachments"]
    assert table["title"] == "2019年度考核结果表"
    assert sorted(row[1] for row in table["rows"]) == sorted(units)
