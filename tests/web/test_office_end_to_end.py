"""Seed 002 from an empty database to its published circulars, as a 双创办 clerk does it in the
console alone: the campaign, the standard, the units, a round with its teams and assignments,
each list imported from the office's own spreadsheets (Chinese headers, 序号 columns); the
scores read from the score sheet, checked, then confirmed on the results page; a second round
where the clerk has only the printed tiers and order, typed into the results form. Each round's
circular gets its 文号, 主送 and date, is published, and its DOCX prints seed 002's 结果排序.

Only the accounts come from the command line: the people's own pages are not the office's."""

from __future__ import annotations

import io
from typing import Any

import lxml.html
import sqlalchemy as sa
from docx import Document as read_docx

from server.assessment.models import EnteredResult
from server.campaigns.models import Campaign
from server.standards.models import Standard
from server.units.models import Unit
from tests.office.conftest import PASSWORD, cli, write_xlsx  # noqa: F401 (cli: a fixture)
from tests.office.test_seed_002_office import (INSPECTORS, SEED_ASIDE, SEED_RANKING, STANDARD, THRESHOLDS, TIERS,
                                                _ranking, scores_sheet, units_sheet)
from tests.web.test_results_pages import form_values, printed, tiers_in_printed_order
from tests.web.test_setup_pages import Clerk, import_file, round_with_teams

CLOSING = "本次检查结果作为部门、单位年终考评依据之一。"
ADDRESSEES = "各县区双创指挥部，市双创各成员单位"


def test_seed_002_from_an_empty_database_to_its_circulars_through_the_console(cli, client, session, tmp_path):
    cli("create-user", "admin", "--role", "admin", "--password", PASSWORD)
    admin = Clerk(client, "admin", PASSWORD)

    # -- the campaign, its inspectors, its standard (考核细则) and its 115 units
    created = admin.post("/console/office/campaigns/new", name="安康市双创工作", office="市双创办",
                         starts_on="2008-06-11", ends_on="2008-12-31")
    assert admin.flashes(created) == ["已创建考核活动“安康市双创工作”。"]
    campaign_id = session.scalar(sa.select(Campaign.id))
    place = f"/console/office/campaigns/{campaign_id}"
    cli("import", "users", str(write_xlsx(tmp_path / "人员.xlsx", [["序号", "用户名", "姓名", "角色", "初始密码"]] + [
        [n, username, name, "检查员", PASSWORD] for n, (username, name) in enumerate(INSPECTORS, start=1)])))
    said = import_file(admin, f"{place}/import/standard", write_xlsx(tmp_path / "考核细则.xlsx", STANDARD),
                       code="2008XB", name="2008年下半年双创工作目标任务")
    assert said == ["已导入“考核细则.xlsx”：新增 3 条，更新 0 条，0 条不变。", "考核细则 2008XB 第 1 版（草稿）"]
    said = import_file(admin, f"{place}/import/units", write_xlsx(tmp_path / "被考核单位.xlsx", units_sheet()))
    assert said == ["已导入“被考核单位.xlsx”：新增 115 条，更新 0 条，0 条不变。"]
    standard_id = session.scalar(sa.select(Standard.id))
    units = dict(session.execute(sa.select(Unit.name, Unit.id)).all())

    # -- the first round: the score sheet, checked on the results page, then confirmed there
    first = round_with_teams(admin, session, campaign_id, standard_id, tmp_path)
    _configure(admin, first.id, THRESHOLDS)
    here = f"/console/results/{first.id}"
    sheet = write_xlsx(tmp_path / "得分汇总.xlsx", scores_sheet())
    with sheet.open("rb") as handle:
        checked = client.post(f"{here}/sheet", data={"file": (handle, sheet.name), "csrf_token": admin.csrf})
    page = checked.get_data(as_text=True)
    assert checked.status_code == 200 and "“得分汇总.xlsx”检查通过：共 115 行，导入后将新增 115 条" in page
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(EnteredResult)) == 0  # a check writes nothing
    imported = client.post(f"{here}/sheet/confirm", data=form_values(page, "confirm-form"))
    assert imported.status_code == 302 and imported.headers["Location"] == here
    page = client.get(here).get_data(as_text=True)
    assert "已导入“得分汇总.xlsx”：新增 115 条，更新 0 条，0 条不变。" in page
    assert _ranking(printed(page)) == SEED_RANKING  # the page shows what the circular will print
    texts = _published(admin, first.id, "安双创办发〔2008〕19号", "2008年11月29日")
    assert _ranking(texts) == SEED_RANKING
    assert any(t.endswith(SEED_ASIDE) for t in texts), [t for t in texts if "暂未排序" in t]
    assert any("市双创办组成5个检查组，对115个单位" in t for t in texts)

    # -- a second round, where the clerk has only the tiers as printed, in the printed order
    second = round_with_teams(admin, session, campaign_id, standard_id, tmp_path, name="2008年下半年双创目标任务复查",
                              mode="recheck")
    _configure(admin, second.id, {})
    here = f"/console/results/{second.id}"
    typed = client.post(here, data=tiers_in_printed_order(client.get(here).get_data(as_text=True), units))
    assert typed.status_code == 302, typed.get_data(as_text=True)[:2000]
    assert "结果已保存：新增 115 个" in client.get(here).get_data(as_text=True)
    texts = _published(admin, second.id, "安双创办发〔2008〕21号", "2008年12月5日")
    assert _ranking(texts) == SEED_RANKING
    assert any(t.endswith(SEED_ASIDE) and "经检查组综合评议后" in t for t in texts)
    listing = client.get("/console/results").get_data(as_text=True)
    assert listing.count("已发布 1 份") == 2


def _configure(clerk: Clerk, round_id: int, thresholds: dict[str, str]) -> None:
    """The round's tiers (seed 002's four, with the minimum scores given), ranked as one list."""
    path = f"/console/results/{round_id}/assessment"
    form = form_values(clerk.get(path).get_data(as_text=True), "assessment-form")
    assert [form[f"tiers.{i}.name"] for i in range(4)] == [tier for tier, _names in TIERS]
    form.pop("rank_by_group", None)
    form.update({f"tiers.{i}.min_score": thresholds[tier] for i, (tier, _names) in enumerate(TIERS)
                 if tier in thresholds})
    form["closing"] = CLOSING
    assert clerk.flashes(clerk.client.post(path, data=form)) == ["考核设置已保存。"]


def _published(clerk: Clerk, round_id: int, number: str, dated: str) -> list[str]:
    """Generate the round's circular, set its 文号, 主送 and date, publish it: its DOCX's paragraphs."""
    circulars = clerk.get(f"/console/results/{round_id}/circulars").get_data(as_text=True)
    generated = clerk.client.post(f"/console/results/{round_id}/circulars",
                                  data=form_values(circulars, "generate-form"))
    assert generated.status_code == 302
    path = generated.headers["Location"]
    form = form_values(clerk.get(path).get_data(as_text=True), "circular-form")
    form.update({"number": number, "addressees": ADDRESSEES, "dated": dated})
    assert clerk.flashes(clerk.client.post(path, data=form)) == ["通报草稿已保存。"]
    page = clerk.get(path).get_data(as_text=True)
    published = clerk.client.post(f"{path}/publish", data={**form_values(page, "publish-form"), "confirm": "1"})
    assert published.status_code == 302
    page = clerk.get(path).get_data(as_text=True)
    assert 'id="read-only"' in page
    docx: Any = clerk.get(lxml.html.fromstring(page).get_element_by_id("docx").get("href"))
    assert docx.status_code == 200
    texts = [p.text for p in read_docx(io.BytesIO(docx.data)).paragraphs]
    assert number in texts and f"{ADDRESSEES}：" in texts and dated in texts
    return texts
