"""An import from the office's pages in a real browser (tests/web/conftest.py), at desktop and
phone width: a bad file's every problem, a good file's check with its preview, the confirm,
and the same file again changing nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from server.units.models import Unit
from server.web.imports import PREVIEW_ROWS
from tests.office.conftest import write_xlsx
from tests.web.conftest import CHROMIUM, DESKTOP, PHONE, log_in, shoot

pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.slow, pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no system chromium (apt-get install chromium)")]

DISTRICTS = ["汉滨区", "汉阴县", "石泉县", "宁陕县", "紫阳县", "岚皋县", "平利县", "镇坪县", "旬阳市", "白河县"]
BUREAUS = ["住建局", "城管局", "教育局"]


def _units_file(tmp_path: Path) -> Path:
    rows = [[f"D{n:02d}", f"{district}{bureau}", "区域创建组", "王李张刘陈杨"[n % 6] + "明华强芳军"[n % 5],
             f"0915-32{n:05d}"]
            for n, (district, bureau) in enumerate(((d, b) for d in DISTRICTS for b in BUREAUS), start=1)]
    return write_xlsx(tmp_path / "被考核单位.xlsx", [["单位编码", "单位名称", "考核组别", "联络员", "联系电话"], *rows])


def _choose_and_check(page: Any, path: Path) -> None:
    page.set_input_files("#check-form input[type=file]", str(path))
    page.click("#check-form button[type=submit]")
    page.wait_for_load_state()


def test_an_import_is_checked_then_confirmed_in_a_browser(served, world, session, browser, tmp_path):
    desktop = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = desktop.new_page()
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text))
    log_in(page, served, "sup")
    page.click("header.top nav a[href='/console/office']")
    page.wait_for_url("**/console/office")
    assert world.round.name in page.locator(f"#campaign-{world.campaign.id}").inner_text()
    shoot(page, "office-desktop")
    page.click(f"#campaign-{world.campaign.id} h2 a")
    page.click("#units a.button >> nth=0")
    page.wait_for_url("**/import/units")

    bad = write_xlsx(tmp_path / "单位（有误）.xlsx", [
        ["单位编码", "单位名称", "联系电话"], ["D01", "汉滨区住建局", ""], ["D01", "汉滨区城管局", "无"],
        ["D03", "", ""], ["D04", "市审计局", ""], ["D 05", "汉滨区教育局", ""]])
    _choose_and_check(page, bad)
    problems = page.locator("#check-problems table tbody tr")
    assert problems.count() == 5
    assert problems.nth(0).inner_text().split("\t")[:2] == ["3", "单位编码"]
    assert "与第 2 行重复" in problems.nth(0).inner_text()
    assert "已是单位" in problems.nth(3).inner_text()  # 市审计局 is the name of a unit of the campaign
    assert "含有空格" in problems.nth(4).inner_text()
    assert page.locator("#confirm-form").count() == 0
    shoot(page, "import-problems-desktop")

    good = _units_file(tmp_path)
    _choose_and_check(page, good)
    assert "共 30 行，导入后将新增 30 条" in page.locator("#check-ok").inner_text()
    assert page.locator("#preview tbody tr").count() == PREVIEW_ROWS
    assert page.locator("#more-rows").inner_text() == f"另有 {30 - PREVIEW_ROWS} 行未显示。"
    shoot(page, "import-check-desktop")
    page.click("#confirm-form button[type=submit]")
    page.wait_for_url(f"**/console/office/campaigns/{world.campaign.id}")
    flashes = page.locator("p.flash").all_inner_texts()
    assert flashes == ["已导入“被考核单位.xlsx”：新增 30 条，更新 0 条，0 条不变。", "新增考核组别：区域创建组"]
    shoot(page, "import-done-desktop")
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(Unit)) == 33

    # -- on a phone: the same file again, then a team list with a mistake, fixed and imported
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    small = phone.new_page()
    small.on("console", lambda message: blocked.append(message.text))
    log_in(small, served, "sup")
    small.goto(f"{served}/console/office/campaigns/{world.campaign.id}/import/units")
    _choose_and_check(small, good)
    assert small.locator("#unchanged").is_visible()
    shoot(small, "import-check-phone")
    small.click("#confirm-form button[type=submit]")
    small.wait_for_url(f"**/console/office/campaigns/{world.campaign.id}")
    assert small.locator("p.flash").first.inner_text().endswith("新增 0 条，更新 0 条，30 条不变。")

    small.goto(f"{served}/console/office/rounds/{world.round.id}")
    small.click("#teams a.button >> nth=0")
    teams = write_xlsx(tmp_path / "检查组.xlsx", [["检查组", "组长", "组员"], ["第三检查组", "bob", "张无忌"]])
    _choose_and_check(small, teams)
    assert "没有名为“张无忌”的检查人员或督查人员" in small.locator("#check-problems").inner_text()
    shoot(small, "import-problems-phone")
    teams = write_xlsx(tmp_path / "检查组.xlsx", [["检查组", "组长", "组员"], ["第三检查组", "bob", "alice"]])
    _choose_and_check(small, teams)
    small.click("#confirm-form button[type=submit]")
    small.wait_for_url(f"**/console/office/rounds/{world.round.id}")
    assert "第三检查组" in small.locator("#teams table").inner_text()
    shoot(small, "import-done-phone")
    assert not [m for m in blocked if "Content Security Policy" in m], blocked
    desktop.close()
    phone.close()
