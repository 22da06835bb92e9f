"""Seed 002 set up and published by the office alone: from an empty database, only the ``xuncha``
command and the API, with the spreadsheets a clerk would make (Chinese headers, 序号 columns).
The circular's 结果排序 must print the seed's tiers in the seed's order, with both unranked units
and their reasons, whether the clerk has the scores or only the tiers as printed."""

from __future__ import annotations

import io
import random
import re
from decimal import Decimal

import pytest
from docx import Document as read_docx

from tests.assessment.seed_002 import TIERS, UNRANKED
from tests.office.conftest import PASSWORD, write_xlsx

RANKED = [name for _tier, names in TIERS for name in names]
ALL_UNITS = RANKED + [name for name, _reason in UNRANKED]
#: Codes follow the names' sort order, not the seed's: an order by code would be visibly wrong.
CODES = {name: f"DW{n:03d}" for n, name in enumerate(sorted(ALL_UNITS), start=1)}
TEAMS = ["第一检查组", "第二检查组", "第三检查组", "第四检查组", "第五检查组"]
INSPECTORS = [("jc1", "陈明"), ("jc2", "刘洋"), ("jc3", "赵磊"), ("jc4", "孙丽"), ("jc5", "周涛"),
              ("jc6", "吴刚"), ("jc7", "郑红"), ("jc8", "冯军"), ("jc9", "何平"), ("jc10", "许静")]
ROUND = "2008年下半年双创目标任务检查"
#: Unit i of the seed's order scores 100 − i × 0.5; these thresholds cut it into the seed's tiers.
THRESHOLDS = {"好": "94.5", "较好": "67", "一般": "49.5"}
STANDARD = [["序号", "项目", "编号", "考核内容", "分值", "每处扣分", "扣分标准"],
            [1, "组织领导", "1.1", "单位主要领导任双创工作领导小组组长", 20, 5, "每发现一次扣5分"],
            [2, "档案台帐", "2.1", "按要求建立双创工作台帐", 30, 10, "未建立的扣10分"],
            [3, "环境卫生", "3.1", "机关院内无杂物乱堆乱放", 50, 2, "发现一处扣2分，扣完为止"]]


def units_sheet() -> list[list[object]]:
    """The seed's units as a clerk lists them: numbered, with codes."""
    return [["序号", "单位编码", "单位名称"]] + [[n, CODES[name], name] for n, name in enumerate(ALL_UNITS, start=1)]


def teams_sheet() -> list[list[object]]:
    """Five teams of two inspectors, named by their 姓名."""
    return [["检查组", "组长", "组员"]] + [[team, INSPECTORS[2 * i][1], INSPECTORS[2 * i + 1][1]]
                                       for i, team in enumerate(TEAMS)]


def assignments_sheet() -> list[list[object]]:
    """Every unit to a team, in no particular order, as the clerk's list runs."""
    shuffled = random.Random(2008).sample(ALL_UNITS, len(ALL_UNITS))
    return [["序号", "检查组", "单位名称"]] + [[n, TEAMS[n % 5], name] for n, name in enumerate(shuffled, start=1)]


def scores_sheet() -> list[list[object]]:
    """The seed's results as the clerk's score sheet: each ranked unit's score, which cuts into
    the seed's tiers by :data:`THRESHOLDS`, the rows running by code (by team), not by result, so
    the order must come from the scores; the unranked units last, with why."""
    score = {name: Decimal(100) - Decimal(i) * Decimal("0.5") for i, name in enumerate(RANKED)}
    rows: list[list[object]] = [[n, name, f"{score[name]:.1f}", ""]
                                for n, name in enumerate(sorted(RANKED, key=CODES.get), start=1)]
    rows += [[len(rows) + i, name, "", reason] for i, (name, reason) in enumerate(UNRANKED, start=1)]
    return [["序号", "单位名称", "得分", "暂不排序原因"], *rows]


@pytest.fixture
def seed_round(cli, client, bearer, tmp_path):  # type: ignore[no-untyped-def]
    """Everything up to the results: campaign, people, standard, units, round, teams, assignments."""
    cli("campaign", "create", "安康市双创工作", "--office", "市双创办")
    cli("create-user", "admin", "--role", "admin", "--password", PASSWORD)
    cli("import", "users", str(write_xlsx(tmp_path / "人员.xlsx", [["序号", "用户名", "姓名", "角色", "初始密码"]] + [
        [n, username, name, "督查员" if username == "jc1" else "检查员", PASSWORD]
        for n, (username, name) in enumerate(INSPECTORS, start=1)])))
    cli("import", "standard", str(write_xlsx(tmp_path / "考核细则.xlsx", STANDARD)), "--code", "2008XB",
        "--name", "2008年下半年双创工作目标任务")
    cli("import", "units", str(write_xlsx(tmp_path / "单位.xlsx", units_sheet())))
    cli("round", "create", ROUND, "--mode", "平时检查", "--starts", "2008-10-23", "--ends", "2008-10-30",
        "--standard", "2008XB")
    round_id = cli("round", "list").split("\t")[0]
    supervisor = bearer("jc1", PASSWORD)

    teams = write_xlsx(tmp_path / "检查组.xlsx", teams_sheet())
    with teams.open("rb") as handle:
        response = client.post(f"/api/v1/rounds/{round_id}/teams/import", headers=supervisor,
                               data={"file": (handle, "检查组.xlsx")})
    assert response.status_code == 200, response.get_json()
    assignments = write_xlsx(tmp_path / "检查分组.xlsx", assignments_sheet())
    with assignments.open("rb") as handle:
        response = client.post(f"/api/v1/rounds/{round_id}/assignments/import", headers=supervisor,
                               data={"file": (handle, "检查分组.xlsx")})
    assert response.status_code == 200 and response.get_json()["created"] == 115, response.get_json()

    labels = {name: f"{name}的部门、单位" for name, _ in TIERS}
    configured = client.put(f"/api/v1/rounds/{round_id}/assessment", headers=supervisor, json={
        "tier_method": "thresholds", "rank_by_group": False, "closing": "本次检查结果作为部门、单位年终考评依据之一。",
        "tiers": [{"name": name, "label": labels[name], "min_score": THRESHOLDS.get(name)} for name, _ in TIERS]})
    assert configured.status_code == 200, configured.get_json()
    return round_id, supervisor


def _publish_and_read(cli, round_id: str, tmp_path) -> list[str]:  # type: ignore[no-untyped-def]
    generated = cli("report", "generate", round_id)
    circular_id = re.search(r"draft circular (\d+)", generated).group(1)
    cli("report", "publish", circular_id)
    path = tmp_path / "通报.docx"
    cli("report", "download", circular_id, "-o", str(path))
    return [p.text for p in read_docx(io.BytesIO(path.read_bytes())).paragraphs]


def _ranking(texts: list[str]) -> list[tuple[int, str, list[str]]]:
    listed = []
    for text in texts:
        match = re.fullmatch(r"(\d)、(.+?)的部门、单位：(.+)。", text)
        if match:
            listed.append((int(match.group(1)), match.group(2), match.group(3).split("、")))
    return listed


SEED_RANKING = [(n, tier, list(names)) for n, (tier, names) in enumerate(TIERS, start=1)]
SEED_ASIDE = "（西铁安康办因体制问题未解决、化龙山管理局因正在建设中暂未排序）："


def test_a_score_sheet_gives_the_seeds_ranking(cli, seed_round, tmp_path):
    round_id, _supervisor = seed_round
    sheet = write_xlsx(tmp_path / "得分汇总.xlsx", scores_sheet())
    assert "115 created" in cli("import", "scores", str(sheet), "--round", round_id)

    texts = _publish_and_read(cli, round_id, tmp_path)
    assert _ranking(texts) == SEED_RANKING
    assert any(t.endswith(SEED_ASIDE) for t in texts), [t for t in texts if "暂未排序" in t]
    assert any("市双创办组成5个检查组，对115个单位" in t for t in texts)


def test_only_tiers_and_the_printed_order_give_the_seeds_ranking(cli, client, seed_round, tmp_path):
    round_id, supervisor = seed_round
    # Typed in through the API, in the printed order, with no score at all.
    results = [{"unit": name, "tier": tier} for tier, names in TIERS for name in names]
    results += [{"unit": name, "excluded_reason": reason} for name, reason in UNRANKED]
    response = client.put(f"/api/v1/rounds/{round_id}/results", headers=supervisor, json={"results": results})
    assert response.status_code == 200, response.get_json()

    texts = _publish_and_read(cli, round_id, tmp_path)
    assert _ranking(texts) == SEED_RANKING
    assert any(t.endswith(SEED_ASIDE) and "经检查组综合评议后" in t for t in texts)


def test_the_same_tiers_from_a_sheet_with_the_tier_column(cli, seed_round, tmp_path):
    round_id, _supervisor = seed_round
    rows = [[name, f"{tier}的部门、单位", ""] for tier, names in TIERS for name in names]
    rows += [[name, "", reason] for name, reason in UNRANKED]
    sheet = write_xlsx(tmp_path / "等次.xlsx", [["单位", "等次", "暂不排序原因"], *rows])
    cli("import", "scores", str(sheet), "--round", round_id)
    assert _ranking(_publish_and_read(cli, round_id, tmp_path)) == SEED_RANKING
