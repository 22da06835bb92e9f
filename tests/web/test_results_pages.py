"""The office's results and publication pages over the Flask test client: seed 002's round set up
as the office does it (tests/office), then everything a 双创办 clerk does in the console —
results typed in or read from a score sheet, the configuration, the circular, the bulletins."""

from __future__ import annotations

import datetime as dt
import io
import re
from html import unescape
from typing import Any

import lxml.html
import pytest
import sqlalchemy as sa
from docx import Document as read_docx

from server.assessment.models import Circular, EnteredResult, RankingExclusion, RoundAssessment
from server.auth.models import Role
from server.campaigns.models import Campaign
from server.reports.models import BulletinIssue
from server.rounds.models import Round, RoundMode
from server.units.models import Unit
from tests import factories
from tests.assessment.conftest import bearer  # noqa: F401  (a fixture)
from tests.assessment.seed_002 import TIERS, UNRANKED
from tests.office.conftest import PASSWORD, cli, write_xlsx  # noqa: F401  (cli: a fixture)
from tests.office.test_seed_002_office import RANKED, SEED_ASIDE, SEED_RANKING, _ranking, seed_round  # noqa: F401
from tests.web.test_session import _log_in

#: What the clerk of seed 002 has on paper: each unit's tier, in the printed order.
TIER_OF = {name: tier for tier, names in TIERS for name in names}


def form_values(page: str, form_id: str) -> dict[str, str]:
    """What a browser would send from the form as the page fills it in."""
    return dict(lxml.html.fromstring(page).get_element_by_id(form_id).form_values())


def printed(page: str) -> list[str]:
    """The 结果排序 paragraphs the results page shows."""
    return [unescape(re.sub(r"<[^>]+>", "", p)) for p in re.findall(r'<p class="printed">(.*?)</p>', page, re.S)]


def row(page: str, unit_id: int) -> str:
    return re.search(rf'<tr id="row-{unit_id}".*?</tr>', page, re.S).group(0)


def tiers_in_printed_order(page: str, units: dict[str, int]) -> dict[str, str]:
    """The results form as the clerk fills it from the printed circular: each unit's tier, and
    its place in the print as the position number (the table lists the units by code, which is
    not the seed's order: the numbers make it), the unranked with why; no score at all."""
    form = form_values(page, "results-form")
    for position, name in enumerate(RANKED, start=1):
        form[f"tier-{units[name]}"] = TIER_OF[name]
        form[f"position-{units[name]}"] = str(position)
    for position, (name, reason) in enumerate(UNRANKED, start=len(RANKED) + 1):
        form[f"excluded_reason-{units[name]}"] = reason
        form[f"position-{units[name]}"] = str(position)
    return form


@pytest.fixture
def clerk(client, seed_round, session):  # type: ignore[no-untyped-def]
    """Seed 002's round, its units by name, and the campaign's supervisor logged into the console."""
    round_id, _headers = seed_round
    units = dict(session.execute(sa.select(Unit.name, Unit.id)).all())
    assert _log_in(client, "jc1", PASSWORD).status_code == 302
    return int(round_id), units


def _entered(session) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    session.rollback()
    return {name: (score, tier) for name, score, tier in session.execute(
        sa.select(Unit.name, EnteredResult.score, EnteredResult.tier).join(Unit, Unit.id == EnteredResult.unit_id))}


def test_the_clerk_types_seed_002s_tiers_and_printed_order_and_sees_the_seeds_ranking(client, clerk, session):
    round_id, units = clerk
    page = client.get(f"/console/results/{round_id}").get_data(as_text=True)
    assert "考核结果" in page and page.count('<tr id="row-') == 115
    answer = client.post(f"/console/results/{round_id}", data=tiers_in_printed_order(page, units))
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]

    page = client.get(f"/console/results/{round_id}").get_data(as_text=True)
    assert "结果已保存：新增 115 个" in page
    texts = printed(page)
    assert _ranking(texts) == SEED_RANKING
    assert texts[0].endswith(SEED_ASIDE) and "经检查组综合评议后" in texts[0]
    # The table now reads in the clerk's order, each unit with what was entered.
    assert form_values(page, "results-form")[f"position-{units['市科技局']}"] == "12"
    assert form_values(page, "results-form")[f"excluded_reason-{units['化龙山管理局']}"] == "因正在建设中"
    assert len(_entered(session)) == 115
    exclusions = session.execute(sa.select(Unit.name, RankingExclusion.reason)
                                 .join(Unit, Unit.id == RankingExclusion.unit_id)
                                 .order_by(RankingExclusion.position)).all()
    assert exclusions == list(UNRANKED)


def test_a_form_with_bad_rows_shows_each_error_on_its_row_and_saves_nothing(client, clerk, session):
    round_id, units = clerk
    page = client.get(f"/console/results/{round_id}").get_data(as_text=True)
    form = form_values(page, "results-form")
    form[f"score-{units['市人大办']}"] = "95"
    assert client.post(f"/console/results/{round_id}", data=form).status_code == 302
    assert _entered(session) == {"市人大办": (95, None)}

    form[f"score-{units['市人大办']}"] = "88"  # a good change, which must not be saved either
    form[f"score-{units['市纪委监察局']}"] = "101"
    form[f"tier-{units['市政府办']}"] = "优秀"
    form[f"adjustment-{units['市妇联']}"] = "-2"
    form[f"score-{units['市妇联']}"] = "80"
    form[f"position-{units['团市委']}"] = "第一"
    answer = client.post(f"/console/results/{round_id}", data=form)
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    # The position is the page's own check: the service is asked only with sensible numbers.
    assert "field-error" in row(page, units["团市委"]) and 'value="第一"' in row(page, units["团市委"])
    form[f"position-{units['团市委']}"] = ""
    page = client.post(f"/console/results/{round_id}", data=form).get_data(as_text=True)
    assert "全部未保存" in page
    bad = {name: row(page, units[name]) for name in ("市纪委监察局", "市政府办", "市妇联")}
    assert all('class="bad"' in html for html in bad.values())
    # Said in Chinese, as the office's imports say them (the API keeps its English).
    assert "101 超过满分 100" in bad["市纪委监察局"] and 'value="101"' in bad["市纪委监察局"]
    assert "“优秀”不是本轮次的等次：好、较好、一般、较差" in bad["市政府办"]
    assert "<option selected>优秀</option>" in bad["市政府办"]
    assert "评议调整须写明理由" in bad["市妇联"]
    assert "field-error" not in row(page, units["市人大办"]) and 'value="88"' in row(page, units["市人大办"])
    assert page.count('class="bad"') == 3
    assert _entered(session) == {"市人大办": (95, None)}


def test_a_score_sheet_is_checked_with_row_numbers_then_imported_on_confirmation(client, clerk, session, tmp_path):
    round_id, _units = clerk
    here = f"/console/results/{round_id}"
    bad = write_xlsx(tmp_path / "得分.xlsx", [["序号", "单位名称", "得分", "等次", "评议调整", "调整理由"],
                                             [1, "市人大办", 96, "", "", ""],
                                             [2, "市审计署", 90, "", "", ""],
                                             [3, "市政府办", 101, "", "", ""],
                                             [4, "市妇联", 80, "优秀", 3, ""]])
    answer = _check_sheet(client, round_id, bad)
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    # Every problem with its line and the column as the file heads it, in Chinese, on the results page.
    listed = lxml.html.fromstring(page).get_element_by_id("check-problems")
    lines = [tuple(td.text_content().strip() for td in tr.findall("td")) for tr in listed.iter("tr")][1:]
    assert lines == [("3", "单位名称", "安康市双创工作中没有名称或编码为“市审计署”的单位"),
                     ("4", "得分", "101 超过满分 100"),
                     ("5", "等次", "“优秀”不是本轮次的等次：好、较好、一般、较差"),
                     ("5", "调整理由", "评议调整须写明理由（综合评议意见）")]
    assert 'id="confirm-form"' not in page and 'id="results-form"' in page and _entered(session) == {}

    good = write_xlsx(tmp_path / "得分2.xlsx", [["单位名称", "得分", "暂不排序原因"], ["市人大办", 96, ""],
                                               ["市政府办", 91.5, ""], ["西铁安康办", "", "因体制问题未解决"]])
    answer = _check_sheet(client, round_id, good)
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "“得分2.xlsx”检查通过：共 3 行，导入后将新增 3 条" in page and _entered(session) == {}  # nothing written
    preview = lxml.html.fromstring(page).get_element_by_id("preview")
    assert [td.text_content() for td in preview.findall(".//tbody/tr")[2].findall("td")] == \
        ["4", "西铁安康办", "", "因体制问题未解决"]
    # The confirm names the file kept on the server: no file travels back in the page.
    confirm = form_values(page, "confirm-form")
    assert set(confirm) == {"csrf_token", "token"} and len(page) < 200_000
    answer = client.post(f"{here}/sheet/confirm", data=confirm)
    assert answer.status_code == 302 and answer.headers["Location"] == here
    assert _entered(session) == {"市人大办": (96, None), "市政府办": (91.5, None), "西铁安康办": (None, None)}
    page = client.get(here).get_data(as_text=True)
    assert "已导入“得分2.xlsx”：新增 3 条，更新 0 条，0 条不变。" in page
    assert "（西铁安康办因体制问题未解决暂未排序）" in printed(page)[0]
    assert "1、好的部门、单位：市人大办。" in printed(page)  # 96 ≥ 94.5
    assert "2、较好的部门、单位：市政府办。" in printed(page)
    # The results entered download from the page as a score sheet, which imports back unchanged.
    link = lxml.html.fromstring(page).get_element_by_id("sheet-export").findall(".//a")[0].get("href")
    (tmp_path / "导出的得分.xlsx").write_bytes(client.get(link).data)
    checked = _check_sheet(client, round_id, tmp_path / "导出的得分.xlsx").get_data(as_text=True)
    assert "导入后将新增 0 条、更新 0 条，3 条不变" in checked

    # The token is spent: confirming again imports nothing and says to check the file again.
    again = client.post(f"{here}/sheet/confirm", data=confirm)
    assert again.status_code == 410 and "已过期或已经导入" in again.get_data(as_text=True)
    # A units file checked on the office's pages is not a score sheet to confirm here.
    campaign_id = session.get(Round, round_id).campaign_id
    units = write_xlsx(tmp_path / "单位.xlsx", [["单位编码", "单位名称"], ["DW999", "市档案馆"]])
    with units.open("rb") as handle:
        checked = client.post(f"/console/office/campaigns/{campaign_id}/import/units", data={
            "file": (handle, units.name), "csrf_token": confirm["csrf_token"]})
    token = form_values(checked.get_data(as_text=True), "confirm-form")["token"]
    assert client.post(f"{here}/sheet/confirm", data={**confirm, "token": token}).status_code == 410
    no_file = client.post(f"{here}/sheet", data={"csrf_token": confirm["csrf_token"]})
    assert no_file.status_code == 422 and "请选择 .xlsx 或 .csv（UTF-8）文件" in no_file.get_data(as_text=True)
    assert len(_entered(session)) == 3


def _check_sheet(client, round_id: int, path) -> Any:  # type: ignore[no-untyped-def]
    with path.open("rb") as handle:
        return client.post(f"/console/results/{round_id}/sheet", data={"file": (handle, path.name),
                                                                       "csrf_token": form_csrf(client, round_id)})


def form_csrf(client, round_id: int) -> str:  # type: ignore[no-untyped-def]
    page = client.get(f"/console/results/{round_id}").get_data(as_text=True)
    return form_values(page, "results-form")["csrf_token"]


def test_the_circular_header_set_in_the_page_is_printed_and_publishing_keeps_the_clerks_date(client, clerk, session):
    round_id, _units = clerk
    token = form_csrf(client, round_id)
    answer = client.post(f"/console/results/{round_id}/circulars", data={"csrf_token": token})
    assert answer.status_code == 302
    circular_path = answer.headers["Location"]
    page = client.get(circular_path).get_data(as_text=True)
    form = form_values(page, "circular-form")
    assert form["title"] == "关于2008年下半年双创目标任务检查情况的通报" and form["dated"] == "2026年10月23日"
    form.update({"number": "安双创办发〔2008〕19号", "addressees": "各县区双创指挥部，市双创各成员单位",
                 "dated": "2008年11月29日", "copies": "市委办，市政府办", "printed": "2008年11月30日",
                 "sections.3.paragraphs": "一是要进一步加强领导。\n二是要进一步加强档案资料管理。"})
    assert client.post(circular_path, data=form).status_code == 302

    # An empty title is refused beside its field, and the draft keeps the text saved before.
    refused = client.post(circular_path, data={**form_values(client.get(circular_path).get_data(as_text=True),
                                                                     "circular-form"), "title": ""})
    assert refused.status_code == 422
    assert re.search(r'name="title".*?</label>\s*<span class="field-error"', refused.get_data(as_text=True), re.S)

    page = client.get(circular_path).get_data(as_text=True)
    publish = form_values(page, "publish-form")
    assert client.post(f"{circular_path}/publish", data=publish).status_code == 422  # not ticked as read
    assert client.post(f"{circular_path}/publish", data={**publish, "confirm": "1"}).status_code == 302
    circular_id = int(circular_path.rsplit("/", 1)[1])
    docx = client.get(f"/api/v1/circulars/{circular_id}/docx")
    assert docx.status_code == 200
    texts = [p.text for p in read_docx(io.BytesIO(docx.data)).paragraphs]
    assert "安双创办发〔2008〕19号" in texts and "各县区双创指挥部，市双创各成员单位：" in texts
    assert "2008年11月29日" in texts and "2026年10月23日" not in texts  # not today: the clerk's date
    assert "一是要进一步加强领导。" in texts and "二是要进一步加强档案资料管理。" in texts
    assert any("2008年11月30日印发" in t for t in texts) and any("抄送：市委办，市政府办。" in t for t in texts)

    # Published: read-only in the page, and an edit sent all the same is refused and changes nothing.
    page = client.get(circular_path).get_data(as_text=True)
    assert 'id="circular-form"' not in page and 'id="read-only"' in page and "已发布" in page
    refused = client.post(circular_path, data={**form, "number": "改过的文号", "version": "99"})
    assert refused.status_code == 409
    session.rollback()
    assert session.get(Circular, circular_id).document["number"] == "安双创办发〔2008〕19号"
    listing = client.get(f"/console/results/{round_id}/circulars").get_data(as_text=True)
    assert "安双创办发〔2008〕19号" in listing and "已发布" in listing
    index = client.get("/console/results").get_data(as_text=True)
    assert "已发布 1 份" in index


def test_the_configuration_form_saves_through_the_service_and_shows_errors_in_place(client, clerk, session):
    round_id, _units = clerk
    page = client.get(f"/console/results/{round_id}/assessment").get_data(as_text=True)
    form = form_values(page, "assessment-form")
    assert [form[f"tiers.{i}.name"] for i in range(4)] == ["好", "较好", "一般", "较差"]
    assert form["tiers.0.min_score"] == "94.5" and form["tier_method"] == "thresholds"
    assert "rank_by_group" not in form  # seed 002 ranks the round as one list

    form["tiers.1.min_score"] = "95"  # above 好's minimum
    form["tiers.2.quota"] = "abc"
    answer = client.post(f"/console/results/{round_id}/assessment", data=form)
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert re.search(r'name="tiers.2.quota"[^>]*>\s*<span class="field-error"[^>]*>不是有效的数字', page)
    session.rollback()
    assert session.get(RoundAssessment, round_id).tiers[1]["min_score"] == "67.00"

    form["tiers.2.quota"] = ""
    page = client.post(f"/console/results/{round_id}/assessment", data=form).get_data(as_text=True)
    assert re.search(r'name="tiers.1.min_score"[^>]*>\s*<span class="field-error"[^>]*>最低分须从最好的等次到最差的等次依次降低',
                     page), page[:3000]

    form.update({"tier_method": "quotas", "tiers.0.min_score": "", "tiers.1.min_score": "", "tiers.2.min_score": "",
                 "tiers.0.quota": "0.2", "tiers.1.quota": "0.5", "tiers.2.quota": "0.2",
                 "requirements": "一是要进一步加强领导。\n二是要加强档案管理。", "order_deductions.overdue": "0.5"})
    assert client.post(f"/console/results/{round_id}/assessment", data=form).status_code == 302
    session.rollback()
    config = session.get(RoundAssessment, round_id)
    assert config.tier_method.value == "quotas" and [t.get("quota") for t in config.tiers] == ["0.2", "0.5", "0.2", None]
    assert config.requirements.startswith("一是") and config.order_deductions == {"overdue": "0.50"}


def test_groups_tiers_and_an_annual_rounds_weights(client, session, hasher):
    campaign = factories.campaign(session, office="市双创办")
    groups = [factories.group(session, campaign, name=name, position=i)
              for i, name in enumerate(("区域创建组", "片区创建组"))]
    units = [factories.unit(session, campaign, group_id=groups[i % 2].id) for i in range(4)]
    factories.user(session, hasher, Role.SUPERVISOR, campaign=campaign, username="office")
    std = factories.standard(session, campaign)
    spring = factories.round_(session, campaign, std, name="一季度考核")
    factories.team(session, spring, units=units)
    annual = factories.round_(session, campaign, std, name="年度考核", mode=RoundMode.ANNUAL)
    factories.team(session, annual, units=units)
    session.commit()
    _log_in(client, "office", factories.PASSWORD)

    path = f"/console/results/{annual.id}/assessment"
    page = client.get(path).get_data(as_text=True)
    assert "一季度考核" in page and "片区创建组" in page
    form = form_values(page, "assessment-form")
    form.update({"rank_by_group": "1", "groups.1.own": "1", "groups.1.tier_method": "quotas",
                 "groups.1.tiers.0.name": "优秀", "groups.1.tiers.0.quota": "0.2", "groups.1.tiers.1.name": "良好",
                 "sources.0.weight": "0"})
    answer = client.post(path, data=form)
    assert answer.status_code == 422
    assert re.search(r'name="sources.0.weight".*?field-error', answer.get_data(as_text=True), re.S)

    form["sources.0.weight"] = "0.4"
    assert client.post(path, data=form).status_code == 302
    session.rollback()
    config = session.get(RoundAssessment, annual.id)
    assert config.sources == [{"round_id": spring.id, "weight": "0.40"}]
    assert config.group_tiers == [{"name": "片区创建组", "tier_method": "quotas",
                                   "tiers": [{"name": "优秀", "label": "", "quota": "0.2"},
                                             {"name": "良好", "label": ""}]}]
    # The results table of a round with groups lists its units group by group, with each group's tiers.
    page = client.get(f"/console/results/{annual.id}").get_data(as_text=True)
    assert page.index("区域创建组") < page.index("片区创建组")
    assert "<option>优秀</option>" in row(page, units[1].id) and "<option>优秀</option>" not in row(page, units[0].id)


def test_bulletins_are_numbered_in_turn_and_a_bad_period_issues_nothing(client, clerk, session):
    _round_id, _units = clerk
    page = client.get("/console/bulletins").get_data(as_text=True)
    form = form_values(page, "issue-form")
    assert (form["start"], form["end"]) == ("2026-10-17", "2026-10-23")  # the week up to today
    answer = client.post("/console/bulletins", data={**form, "start": "2026-10-20", "end": "2026-10-01"})
    assert answer.status_code == 422 and "早于开始日期" in answer.get_data(as_text=True)
    answer = client.post("/console/bulletins", data={**form, "start": "2025-01-01", "end": "2026-10-01"})
    assert answer.status_code == 422 and "一期快报最多涵盖" in answer.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count()).select_from(BulletinIssue)) == 0

    assert client.post("/console/bulletins", data=form).status_code == 302
    page = client.get("/console/bulletins").get_data(as_text=True)
    assert "快报已编为第1期" in page and "第1期" in page
    follow = form_values(page, "issue-form")
    assert follow["start"] == "2026-10-23"  # the day after the last period
    client.post("/console/bulletins", data=form)  # the same period keeps its number
    client.post("/console/bulletins", data={**follow, "start": "2026-10-18"})
    session.rollback()
    assert session.execute(sa.select(BulletinIssue.number, BulletinIssue.starts_on).order_by(BulletinIssue.number)
                           ).all() == [(1, dt.date.fromisoformat("2026-10-17")), (2, dt.date.fromisoformat("2026-10-18"))]
    preview = client.post("/console/bulletins", data={**form, "action": "preview"})
    assert preview.status_code == 302 and "/api/v1/bulletins/html?start=2026-10-17" in preview.headers["Location"]
    docx = re.search(r'href="(/api/v1/bulletins/docx[^"]+)"', page).group(1)
    assert client.get(unescape(docx)).status_code == 200


def test_liaisons_and_inspectors_cannot_reach_the_pages_and_another_campaigns_supervisor_gets_404(
        client, seed_round, session, hasher):
    round_id, headers = seed_round
    circular = client.post(f"/api/v1/rounds/{round_id}/circulars", headers=headers, json={}).get_json()
    unit = session.scalar(sa.select(Unit).limit(1))
    here = session.get(Campaign, unit.campaign_id)
    factories.user(session, hasher, Role.LIAISON, campaign=here, unit=unit, username="liaison")
    other = factories.campaign(session)
    factories.user(session, hasher, Role.SUPERVISOR, campaign=other, username="elsewhere")
    session.commit()
    pages = ["/console/results", f"/console/results/{round_id}", f"/console/results/{round_id}/assessment",
             f"/console/results/{round_id}/circulars", f"/console/circulars/{circular['id']}", "/console/bulletins"]
    for username, password in (("liaison", factories.PASSWORD), ("jc2", PASSWORD)):  # jc2: an inspector
        client.delete_cookie("xuncha_console")
        assert _log_in(client, username, password).status_code == 302
        home = client.get("/console/", follow_redirects=True).get_data(as_text=True)
        assert "/console/results" not in home  # no link to them
        assert [client.get(p).status_code for p in pages] == [403] * len(pages)

    client.delete_cookie("xuncha_console")
    _log_in(client, "elsewhere", factories.PASSWORD)
    assert client.get("/console/results").status_code == 200
    assert "2008年下半年" not in client.get("/console/results").get_data(as_text=True)
    assert [client.get(p).status_code for p in pages[1:5]] == [404] * 4
    token = form_values(client.get("/console/bulletins").get_data(as_text=True), "issue-form")["csrf_token"]
    writes = [f"/console/results/{round_id}", f"/console/results/{round_id}/assessment",
              f"/console/results/{round_id}/circulars", f"/console/circulars/{circular['id']}",
              f"/console/circulars/{circular['id']}/publish"]
    assert [client.post(p, data={"csrf_token": token, "confirm": "1"}).status_code for p in writes] == [404] * len(writes)
    session.rollback()
    assert session.get(Circular, circular["id"]).status.value == "draft"
