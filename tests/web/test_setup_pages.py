"""The office's setup pages over the Flask test client: from an empty database an admin sets up
seed 002's round through pages alone (campaign, standard, units, round, teams, assignments, each
file checked, then confirmed), bad files show every problem in Chinese and write nothing, and
nobody outside the campaign's office gets in."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from server.assessment.messages import ENGLISH as ASSESSMENT_ENGLISH
from server.auth.messages import ENGLISH as ACCOUNT_ENGLISH
from server.auth.models import Role
from server.campaigns.models import Campaign
from server.imports.messages import ENGLISH
from server.reports.messages import ENGLISH as REPORT_ENGLISH
from server.rounds.models import Assignment, Round, RoundMode, RoundStatus, Team
from server.standards.models import Standard, StandardItem
from server.units.models import Unit
from server.web import staging
from server.web.imports import PREVIEW_ROWS
from server.web.text import ZH_CN
from tests import factories
from tests.office.conftest import PASSWORD, cli, write_xlsx  # noqa: F401 (cli: a fixture)
from tests.office.test_seed_002_office import (ALL_UNITS, INSPECTORS, ROUND, STANDARD, TEAMS, assignments_sheet,
                                                teams_sheet, units_sheet)
from tests.web.test_session import CSRF, _log_in

TOKEN = re.compile(r'name="token" value="([^"]+)"')
CLERK_FILES = {"units": units_sheet, "teams": teams_sheet, "assignments": assignments_sheet}


class Clerk:
    """A person at the console: the test client with its session's CSRF token."""

    def __init__(self, client: Any, username: str, password: str) -> None:
        assert _log_in(client, username, password).status_code == 302
        self.client = client
        self.csrf = CSRF.search(client.get("/console/", follow_redirects=True).get_data(as_text=True)).group(1)

    def get(self, path: str) -> Any:
        return self.client.get(path)

    def post(self, path: str, **form: Any) -> Any:
        return self.client.post(path, data={"csrf_token": self.csrf, **form})

    def check(self, path: str, file: Path, *, sent_as: str | None = None, **form: Any) -> Any:
        """Send a file to an import page's check (under another name, if ``sent_as``)."""
        return self.client.post(path, content_type="multipart/form-data", data={
            "csrf_token": self.csrf, "file": (io.BytesIO(file.read_bytes()), sent_as or file.name), **form})

    def confirm(self, path: str, checked: Any) -> Any:
        token = TOKEN.search(checked.get_data(as_text=True))
        assert token, checked.get_data(as_text=True)
        return self.post(f"{path}/confirm", token=token.group(1))

    def flashes(self, answer: Any) -> list[str]:
        assert answer.status_code == 302, answer.get_data(as_text=True)
        page = self.get(answer.headers["Location"]).get_data(as_text=True)
        return re.findall(r'<p class="note flash" role="status">([^<]*)</p>', page)


def import_file(clerk: Clerk, path: str, file: Path, **form: Any) -> list[str]:
    """A file checked on an import page, then confirmed: what the page the clerk returns to says."""
    checked = clerk.check(path, file, **form)
    assert checked.status_code == 200, checked.get_data(as_text=True)
    return clerk.flashes(clerk.confirm(path, checked))


def round_with_teams(clerk: Clerk, session: Any, campaign_id: int, standard_id: int, tmp_path: Path, *,
                     name: str = ROUND, mode: str = "open") -> Round:
    """A round of seed 002 made on the office's pages, with its five teams and every unit assigned,
    each list imported from the clerk's file."""
    made = clerk.post(f"/console/office/campaigns/{campaign_id}/rounds/new", name=name, mode=mode, status="planned",
                      starts_on="2008-10-23", ends_on="2008-10-30", standard_id=str(standard_id))
    assert clerk.flashes(made) == [f"已创建检查轮次“{name}”。"]
    session.rollback()
    round_ = session.scalar(sa.select(Round).where(Round.name == name))
    here = f"/console/office/rounds/{round_.id}"
    for kind, count in (("teams", 5), ("assignments", 115)):
        said = import_file(clerk, f"{here}/import/{kind}", write_xlsx(tmp_path / f"{kind}.xlsx", CLERK_FILES[kind]()))
        assert said[0].startswith(f"已导入“{kind}.xlsx”：新增 {count} 条"), said
    return round_


def _count(session: Any, model: Any) -> int:
    session.rollback()
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_seed_002_is_set_up_through_the_console_alone(cli, client, session, tmp_path):
    cli("create-user", "admin", "--role", "admin", "--password", PASSWORD)
    admin = Clerk(client, "admin", PASSWORD)
    home = admin.get("/console/office").get_data(as_text=True)
    assert 'id="no-campaigns"' in home and "/console/office/campaigns/new" in home and ">办公室</a>" in home

    created = admin.post("/console/office/campaigns/new", name="安康市双创工作", office="市双创办",
                         starts_on="2008-06-11", ends_on="2008-12-31", groups="共性任务组\n区域创建组")
    assert admin.flashes(created) == ["已创建考核活动“安康市双创工作”。"]
    campaign = session.scalar(sa.select(Campaign))
    assert (campaign.office, str(campaign.ends_on), [g.name for g in campaign.groups]) == \
        ("市双创办", "2008-12-31", ["共性任务组", "区域创建组"])
    place = f"/console/office/campaigns/{campaign.id}"
    # The people come from elsewhere (their own pages, or the command line, as here).
    cli("import", "users", str(write_xlsx(tmp_path / "人员.xlsx", [["用户名", "姓名", "角色", "初始密码"]] + [
        [username, name, "检查员", PASSWORD] for username, name in INSPECTORS])))

    # -- the standard (考核细则), checked then imported
    standard_file = write_xlsx(tmp_path / "考核细则.xlsx", STANDARD)
    checked = admin.check(f"{place}/import/standard", standard_file, code="2008XB", name="2008年下半年双创工作目标任务")
    page = checked.get_data(as_text=True)
    assert checked.status_code == 200 and "“考核细则.xlsx”检查通过：共 3 行，导入后将新增 3 条" in page
    assert "考核细则 2008XB 第 1 版（草稿）" in page  # the engine's note, in Chinese
    assert _count(session, Standard) == 0  # a check writes nothing
    said = admin.flashes(admin.confirm(f"{place}/import/standard", checked))
    assert said[0] == "已导入“考核细则.xlsx”：新增 3 条，更新 0 条，0 条不变。"
    assert _count(session, StandardItem) == 3

    # -- units: 115 rows, only the first ones shown
    units_file = write_xlsx(tmp_path / "单位.xlsx", CLERK_FILES["units"]())
    checked = admin.check(f"{place}/import/units", units_file)
    page = checked.get_data(as_text=True)
    assert "共 115 行，导入后将新增 115 条、更新 0 条，0 条不变" in page
    preview = page[page.index('id="preview"'):page.index("</table>", page.index('id="preview"'))]
    assert preview.count("<tr>") == PREVIEW_ROWS + 1 and ALL_UNITS[0] in preview and ALL_UNITS[-1] not in preview
    assert f"另有 {115 - PREVIEW_ROWS} 行未显示" in page
    assert admin.flashes(admin.confirm(f"{place}/import/units", checked))[0].endswith("新增 115 条，更新 0 条，0 条不变。")

    # -- the round, against the standard, which it publishes; its teams, then which team inspects which unit
    new_round = admin.get(f"{place}/rounds/new").get_data(as_text=True)
    for mode in RoundMode:
        assert f'value="{mode.value}"' in new_round  # every kind of round the API knows
    standard = session.scalar(sa.select(Standard))
    round_ = round_with_teams(admin, session, campaign.id, standard.id, tmp_path)
    assert (round_.mode, str(round_.starts_on)) == (RoundMode.OPEN, "2008-10-23")
    assert session.scalar(sa.select(Standard.published_at)) is not None
    assert (_count(session, Team), _count(session, Assignment)) == (5, 115)
    here = f"/console/office/rounds/{round_.id}"
    round_page = admin.get(here).get_data(as_text=True)
    assert "已分配 115 个单位（本活动共 115 个被考核单位）" in round_page and "陈明" in round_page

    # -- the same file again changes nothing, and the pages say so
    checked = admin.check(f"{place}/import/units", units_file)
    assert "新增 0 条、更新 0 条，115 条不变" in checked.get_data(as_text=True)
    assert 'id="unchanged"' in checked.get_data(as_text=True)
    assert admin.flashes(admin.confirm(f"{place}/import/units", checked))[0].endswith("新增 0 条，更新 0 条，115 条不变。")
    assert _count(session, Unit) == 115

    # -- the units download from the campaign's page as the file their import reads: unchanged
    campaign_page = admin.get(place).get_data(as_text=True)
    link = re.search(r'href="(/api/v1/units/export\?[^"]*format=xlsx[^"]*)"', campaign_page)
    assert link and f"campaign_id={campaign.id}" in link.group(1), campaign_page
    downloaded = admin.get(link.group(1).replace("&amp;", "&"))
    assert downloaded.status_code == 200
    assert next(load_workbook(io.BytesIO(downloaded.data)).active.iter_rows(values_only=True))[:2] == ("单位编码",
                                                                                                     "单位名称")
    (tmp_path / "导出的单位.xlsx").write_bytes(downloaded.data)
    checked = admin.check(f"{place}/import/units", tmp_path / "导出的单位.xlsx")
    assert "新增 0 条、更新 0 条，115 条不变" in checked.get_data(as_text=True)

    # -- the round's lists and the standard download as files their imports read back
    teams = admin.get(f"/api/v1/rounds/{round_.id}/teams/export?format=xlsx")
    rows = list(load_workbook(io.BytesIO(teams.data)).active.iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == TEAMS
    assert f"/api/v1/rounds/{round_.id}/teams/export?format=xlsx" in round_page
    exported = admin.get(f"/api/v1/standards/{standard.id}/export?format=csv")
    assert exported.status_code == 200 and "机关院内无杂物乱堆乱放" in exported.data.decode("utf-8-sig")

    # -- the office home lists the campaign with its standard and round
    home = admin.get("/console/office").get_data(as_text=True)
    assert "安康市双创工作" in home and "2008XB" in home and ROUND in home and "平时检查（明查）" in home


def test_campaigns_and_rounds_are_changed_with_the_apis_rules(client, world, session, hasher):
    factories.user(session, hasher, Role.ADMIN, username="root")
    session.commit()
    admin = Clerk(client, "root", factories.PASSWORD)
    place = f"/console/office/campaigns/{world.campaign.id}"
    backwards = admin.post(place, name=world.campaign.name, office="市双创办", starts_on="2026-12-01",
                           ends_on="2026-01-01", timezone="Mars/Olympus")
    page = backwards.get_data(as_text=True)
    assert backwards.status_code == 422 and "时区：不是有效的时区" in page
    assert admin.post(place, name=world.campaign.name, starts_on="2026-12-01",
                      ends_on="2026-01-01").status_code == 422
    saved = admin.post(place, name="安康市创文工作", office="市创文办", starts_on="2026-01-01", ends_on="",
                       groups="片区创建组、重点任务组")
    assert admin.flashes(saved) == ["考核活动已保存。"]
    session.rollback()
    session.refresh(world.campaign)
    assert (world.campaign.name, world.campaign.office, world.campaign.ends_on) == ("安康市创文工作", "市创文办", None)
    assert [g.name for g in world.campaign.groups] == ["片区创建组", "重点任务组"]
    taken = admin.post("/console/office/campaigns/new", name="安康市创文工作")
    assert taken.status_code == 409 and "该名称已被使用" in taken.get_data(as_text=True)

    here = f"/console/office/rounds/{world.round.id}"
    refused = admin.post(here, name=world.round.name, mode="annual", status="active", starts_on="2026-10-30",
                         ends_on="2026-10-01")
    assert refused.status_code == 422 and "结束日期：早于开始日期" in refused.get_data(as_text=True)
    assert admin.flashes(admin.post(here, name="第四季度考核", mode="quarterly", status="active",
                                    starts_on="2026-10-01", ends_on="2026-12-31")) == ["检查轮次已保存。"]
    session.rollback()
    session.refresh(world.round)
    assert (world.round.mode, world.round.status, str(world.round.ends_on)) == \
        (RoundMode.QUARTERLY, RoundStatus.ACTIVE, "2026-12-31")
    draft = factories.standard(session, world.campaign, code="NEW")
    session.commit()
    assert admin.flashes(admin.post(f"/console/office/standards/{draft.id}/publish")) == ["考核细则 NEW 第 1 版已发布。"]
    assert admin.post(f"/console/office/standards/{draft.id}/publish").status_code == 409


def test_a_bad_file_shows_every_problem_and_writes_nothing(client, world, session, tmp_path):
    sup = Clerk(client, "sup", factories.PASSWORD)
    place = f"/console/office/campaigns/{world.campaign.id}"
    units_before = _count(session, Unit)

    wrong_header = write_xlsx(tmp_path / "单位.xlsx", [["单位编码", "单位名"], ["G1", "市人大办"]])
    checked = sup.check(f"{place}/import/units", wrong_header)
    assert checked.status_code == 422
    assert _problems(checked) == [("1", "单位名", "无法识别的列名"),
                                  ("1", "名称", "缺少必填的列，列名可写作：name / 名称 / 单位名称"),
                                  ("1", "—", "本文件可以有的列：code / 编码 / 单位编码 / 代码; name / 名称 / 单位名称; "
                                             "group / 考核组别 / 组别; parent / 上级单位 / 上级单位编码; address / 地址; "
                                             "liaison_name / 联络员 / 联络员姓名; liaison_phone / 联系电话 / 联络员电话; "
                                             "liaison_email / 联络员邮箱 / 邮箱 / 电子邮箱")]
    assert 'name="token"' not in checked.get_data(as_text=True)  # nothing to confirm

    duplicates = write_xlsx(tmp_path / "单位.xlsx", [
        ["单位编码", "单位名称", "联系电话"], ["G1", "市人大办", ""], ["G1", "市政协办", "电话"],
        ["G2", "", ""], ["G 3", "市人大办", ""]])
    assert _problems(sup.check(f"{place}/import/units", duplicates)) == [
        ("3", "单位编码", "“G1”与第 2 行重复"), ("3", "联系电话", "“电话”不像电话号码"),
        ("4", "单位名称", "不能为空"), ("5", "单位编码", "“G 3”含有空格"), ("5", "单位名称", "“市人大办”与第 2 行重复")]

    here = f"/console/office/rounds/{world.round.id}"
    unknown = write_xlsx(tmp_path / "检查分组.xlsx", [
        ["单位名称", "检查组"], ["市审计局", "第一检查组"], ["市人大办", "第一检查组"], ["市新华书店", "第九检查组"]])
    assert _problems(sup.check(f"{here}/import/assignments", unknown)) == [
        ("3", "单位名称", f"{world.campaign.name}中没有名称或编码为“市人大办”的单位"),
        ("4", "检查组", f"检查轮次“{world.round.name}”没有“第九检查组”（现有检查组：第一检查组、第二检查组）")]
    assert _count(session, Unit) == units_before
    assert _count(session, Assignment) == 3  # the world's, untouched

    # Mended, the file goes through; a page with no file, or not a spreadsheet, says what to send.
    fixed = write_xlsx(tmp_path / "检查分组.xlsx", [["单位名称", "检查组"], ["市审计局", "第二检查组"]])
    checked = sup.check(f"{here}/import/assignments", fixed)
    assert "更新 1 条" in checked.get_data(as_text=True)
    assert sup.flashes(sup.confirm(f"{here}/import/assignments", checked))[0].endswith("新增 0 条，更新 1 条，0 条不变。")
    (tmp_path / "单位.txt").write_text("编码,名称\n")
    refused = sup.check(f"{place}/import/units", tmp_path / "单位.txt")
    assert refused.status_code == 422 and "请选择 .xlsx 或 .csv（UTF-8）文件" in refused.get_data(as_text=True)
    standard = sup.check(f"{place}/import/standard", wrong_header, code="有 空格", name="")
    assert standard.status_code == 422 and "不能包含空格" in standard.get_data(as_text=True)


def _problems(answer: Any) -> list[tuple[str, str, str]]:
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "未导入任何数据" in page, page
    table = page[page.index('class="list problems"'):]
    table = table[table.index("<tbody>"):table.index("</tbody>")]
    return [tuple(re.sub(r"\s+", " ", cell).strip() for cell in cells)
            for cells in re.findall(r"<tr><td[^>]*>(.*?)</td>\s*<td[^>]*>(.*?)</td>\s*<td[^>]*>(.*?)</td></tr>",
                                    table, re.S)]


def test_two_confirms_of_one_file_at_once_claim_it_once(app, tmp_path):
    """A double click sends the confirm twice; the second may reach another worker before the
    first has imported: the first to take the file holds it, the other finds it gone."""
    from werkzeug.datastructures import FileStorage

    purpose = {"user": 1, "kind": "units", "into": "campaigns", "id": 1}
    with app.test_request_context():
        staged = staging.stage(FileStorage(io.BytesIO(b"code,name\nG1,x\n"), filename="units.csv"),
                               purpose=purpose)
        first = staging.take(staged.token, purpose=purpose)
        assert first.path.read_bytes() == b"code,name\nG1,x\n"
        with pytest.raises(staging.Gone):
            staging.take(staged.token, purpose=purpose)
        staging.discard(first)
        assert not first.path.parent.exists()


def test_a_checked_file_is_imported_once_by_whoever_checked_it_while_it_is_kept(client, app, world, session,
                                                                                hasher, clock, tmp_path):
    other = factories.user(session, hasher, Role.SUPERVISOR, campaign=world.campaign, username="sup2")
    session.commit()
    place = f"/console/office/campaigns/{world.campaign.id}"
    units = write_xlsx(tmp_path / "单位.xlsx", [["编码", "名称"], ["G1", "市人大办"]])
    sup = Clerk(client, "sup", factories.PASSWORD)
    checked = sup.check(f"{place}/import/units", units)
    token = TOKEN.search(checked.get_data(as_text=True)).group(1)

    colleague = Clerk(app.test_client(), other.username, factories.PASSWORD)
    assert colleague.post(f"{place}/import/units/confirm", token=token).status_code == 410  # not theirs
    assert sup.post(f"{place}/import/zones/confirm", token=token).status_code == 410  # not a zones file
    assert sup.post(f"{place}/import/units/confirm", token=token[:-2]).status_code == 410  # forged
    assert _count(session, Unit) == 3
    assert sup.flashes(sup.post(f"{place}/import/units/confirm", token=token))[0].endswith("新增 1 条，更新 0 条，0 条不变。")
    again = sup.post(f"{place}/import/units/confirm", token=token)
    assert again.status_code == 410 and "已过期或已经导入" in again.get_data(as_text=True)
    assert _count(session, Unit) == 4

    # Whatever the browser calls the file, it is kept under a name any file system takes.
    odd = "单位\a" + "很长的名字" * 60 + ".XLSX"
    checked = sup.check(f"{place}/import/units", units, sent_as=odd)
    assert checked.status_code == 200 and "“单位很长的名字" in checked.get_data(as_text=True)

    # A check waits KEPT_MINUTES for its confirm; the next check sweeps what waited longer.
    late = TOKEN.search(sup.check(f"{place}/import/units", units).get_data(as_text=True)).group(1)
    clock.advance(dt.timedelta(minutes=staging.KEPT_MINUTES + 1))
    assert sup.post(f"{place}/import/units/confirm", token=late).status_code == 410
    sup.check(f"{place}/import/units", units)
    kept = Path(app.config["MEDIA_ROOT"]).joinpath(*staging.FOLDER)
    assert len(list(kept.iterdir())) == 1  # the fresh check's; the expired one is gone


@pytest.mark.parametrize("username", ["alice", "liaison"])
def test_the_field_and_the_units_cannot_reach_the_office(client, world, username):
    person = Clerk(client, username, factories.PASSWORD)
    assert ">办公室</a>" not in person.get("/console/").get_data(as_text=True)
    for path in ("/console/office", "/console/office/campaigns/new", f"/console/office/campaigns/{world.campaign.id}",
                 f"/console/office/rounds/{world.round.id}", f"/console/office/standards/{world.standard.id}",
                 f"/console/office/campaigns/{world.campaign.id}/import/units"):
        assert person.get(path).status_code == 403, path
    for path in (f"/console/office/campaigns/{world.campaign.id}", f"/console/office/rounds/{world.round.id}",
                 f"/console/office/campaigns/{world.campaign.id}/import/units",
                 f"/console/office/rounds/{world.round.id}/import/teams/confirm",
                 f"/console/office/standards/{world.standard.id}/publish"):
        assert person.post(path, name="改名").status_code == 403, path


def test_a_supervisor_of_another_campaign_sees_nothing_of_this_one(client, world, session, hasher, tmp_path):
    other = factories.campaign(session, name="汉阴县创卫工作")
    factories.user(session, hasher, Role.SUPERVISOR, campaign=other, username="hanyin")
    session.commit()
    stranger = Clerk(client, "hanyin", factories.PASSWORD)
    home = stranger.get("/console/office").get_data(as_text=True)
    assert "汉阴县创卫工作" in home and world.campaign.name not in home
    assert stranger.get("/console/office/campaigns/new").status_code == 403  # admins create campaigns
    place, here = f"/console/office/campaigns/{world.campaign.id}", f"/console/office/rounds/{world.round.id}"
    for path in (place, here, f"/console/office/standards/{world.standard.id}", f"{place}/import/units",
                 f"{place}/rounds/new", f"{here}/import/teams", f"/console/office/campaigns/{other.id}/import/teams"):
        assert stranger.get(path).status_code == 404, path
    units = write_xlsx(tmp_path / "单位.xlsx", [["编码", "名称"], ["G1", "市人大办"]])
    assert stranger.check(f"{place}/import/units", units).status_code == 404
    for path in (place, here, f"/console/office/standards/{world.standard.id}/publish", f"{place}/rounds/new",
                 f"{place}/import/units/confirm"):
        assert stranger.post(path, name="改名", token="x").status_code == 404, path
    session.rollback()
    session.refresh(world.campaign)
    session.refresh(world.round)
    assert world.campaign.name != "改名" and world.round.name != "改名" and _count(session, Unit) == 3


def test_every_message_of_the_import_engine_the_assessment_the_accounts_and_the_reports_is_said_in_chinese():
    placeholders = re.compile(r"{(\w+)[^}]*}")
    catalogues = (ENGLISH, ASSESSMENT_ENGLISH, ACCOUNT_ENGLISH, REPORT_ENGLISH)
    assert sum(map(len, catalogues)) == len(set().union(*catalogues))  # one translation per key
    for key, english in {**ENGLISH, **ASSESSMENT_ENGLISH, **ACCOUNT_ENGLISH, **REPORT_ENGLISH}.items():
        chinese = ZH_CN[f"setup.say.{key}"]
        assert set(placeholders.findall(chinese)) <= set(placeholders.findall(english)), key


def test_a_file_above_the_upload_limit_is_refused_in_words(app_config, clock, world, tmp_path):
    from server import create_app

    app = create_app({**app_config, "MAX_BODY_BYTES": 20_000}, clock=clock)
    sup = Clerk(app.test_client(), "sup", factories.PASSWORD)
    big = write_xlsx(tmp_path / "单位.xlsx", [["编码", "名称"]] + [[f"G{n}", f"单位{n:05d}" * 3] for n in range(3000)])
    refused = sup.check(f"/console/office/campaigns/{world.campaign.id}/import/units", big)
    assert refused.status_code == 413 and "文件过大：上限为 20 KB。" in refused.get_data(as_text=True)
    app.extensions["xuncha.db"].dispose()
