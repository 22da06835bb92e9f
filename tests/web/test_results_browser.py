"""The office's results pages in a real browser (tests/web/conftest.py): a clerk checks and imports
a score sheet and enters a round's results at desktop width, then generates, edits and publishes
its circular on a phone."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from docx import Document as read_docx

from tests.office.conftest import write_xlsx
from tests.web.conftest import CHROMIUM, DESKTOP, PHONE, log_in, shoot

pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.slow, pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no system chromium (apt-get install chromium)")]


def test_a_clerk_enters_results_and_publishes_the_circular(served, world, browser, tmp_path):
    audit, bookshop, finance = world.units
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text))
    log_in(page, served, "sup")

    page.click("header.top nav >> text=考核结果")
    page.wait_for_url("**/console/results")
    page.click(f"#rounds a:has-text('{world.round.name}')")
    page.wait_for_url(f"**/console/results/{world.round.id}")

    # -- a score sheet checked on the page: its problems, then a good one's preview and the confirm
    sheet = write_xlsx(tmp_path / "得分.xlsx", [["单位名称", "得分"], [audit.name, 120], [bookshop.name, 80]])
    page.set_input_files("#sheet input[type=file]", str(sheet))
    page.click("#sheet button[type=submit]")
    page.wait_for_load_state()
    assert "120 超过满分 100" in page.locator("#check-problems").inner_text()
    shoot(page, "results-sheet-problems-desktop")
    sheet = write_xlsx(tmp_path / "得分.xlsx", [["单位名称", "得分"], [audit.name, 90], [bookshop.name, 80]])
    page.set_input_files("#sheet input[type=file]", str(sheet))
    page.click("#sheet button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#preview tbody tr").count() == 2
    shoot(page, "results-sheet-check-desktop")
    page.click("#confirm-form button[type=submit]")
    page.wait_for_url(f"**/console/results/{world.round.id}")
    assert "已导入“得分.xlsx”：新增 2 条" in page.locator("p.flash").first.inner_text()

    # -- a score, an adjustment with its reason, a unit left unranked with why; one mistake first
    page.fill(f"input[name=score-{audit.id}]", "92")
    page.fill(f"input[name=score-{bookshop.id}]", "85")
    page.fill(f"input[name=adjustment-{bookshop.id}]", "-10")
    page.fill(f"input[name=excluded_reason-{finance.id}]", "因机构改革未到位")
    page.click("#results-form button[type=submit]")
    page.wait_for_load_state()
    assert "评议调整须写明理由" in page.locator(f"#row-{bookshop.id}").inner_text()
    assert page.locator("tr.bad").count() == 1
    assert page.input_value(f"input[name=score-{audit.id}]") == "92"  # what was typed stays
    page.fill(f"input[name=adjustment_reason-{bookshop.id}]", "门前杂物多次反弹，经检查组综合评议")
    page.click("#results-form button[type=submit]")
    page.wait_for_url(f"**/console/results/{world.round.id}")
    ranking = page.locator("#ranking").inner_text()
    assert "1、好的部门、单位：市审计局。" in ranking and "2、一般的部门、单位：市新华书店。" in ranking
    assert "（市财政局因机构改革未到位暂未排序）" in ranking
    shoot(page, "results-desktop")
    page.click("nav.tabs >> text=考核设置")
    page.wait_for_url("**/assessment")
    shoot(page, "results-assessment-desktop")

    # -- on a phone: the circular, its 文号 and the clerk's date, published
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    small = phone.new_page()
    small.on("console", lambda message: blocked.append(message.text))
    log_in(small, served, "sup")
    small.goto(f"{served}/console/results/{world.round.id}")
    shoot(small, "results-phone")
    small.click("nav.tabs >> text=通报")
    small.click("#generate-form button[type=submit]")
    small.wait_for_url("**/console/circulars/*")
    small.fill("#circular-form input[name=number]", "安双创办发〔2026〕3号")
    small.fill("#circular-form input[name=dated]", "2026年10月30日")
    small.click("#circular-form button[type=submit]")
    small.wait_for_load_state()
    assert "通报草稿已保存" in small.locator("p.flash").inner_text()
    shoot(small, "circular-phone")
    small.check("#publish-form input[name=confirm]")
    small.click("#publish-form button[type=submit]")
    small.wait_for_load_state()
    assert small.locator("#circular-status").inner_text() == "已发布"
    assert small.locator("#circular-form").count() == 0
    assert small.locator("#header dd[data-field=dated]").inner_text() == "2026年10月30日"
    shoot(small, "circular-published-phone")

    docx: Any = small.request.get(served + small.get_attribute("#docx", "href"))
    texts = [p.text for p in read_docx(io.BytesIO(docx.body())).paragraphs]
    assert "安双创办发〔2026〕3号" in texts and "2026年10月30日" in texts

    page.goto(f"{served}/console/results")
    assert "已发布 1 份" in page.locator("#rounds").inner_text()
    shoot(page, "results-index-desktop")
    assert not [m for m in blocked if "Content Security Policy" in m], blocked
    context.close()
    phone.close()
