"""The people and calendar pages in a real browser (Debian's chromium, Playwright) against the app
over real HTTP: an admin creates people and sets up a phone from the QR code, a supervisor on a
phone imports a file (checked first), and the year's schedule moves a provisional deadline."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.orders.conftest import local, raise_order  # noqa: F401 (a fixture)
from tests.test_imports import USER_HEADER, write_xlsx
from tests.web.conftest import CHROMIUM, DESKTOP, PHONE, log_in, shoot
from tests.web.test_browser import live  # noqa: F401 (a fixture)

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.slow, pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no system chromium (apt-get install chromium)")]


def login_status(context: Any, live: str, username: str, password: str) -> int:
    device = {"id": str(uuid.uuid4()), "name": "测试机", "platform": "android", "app_version": "1.0"}
    return context.request.post(f"{live}/api/v1/auth/login",
                                data={"username": username, "password": password, "device": device}).status


def _settled_content(page: Any) -> str:
    """The page's HTML once it is done navigating (Chromium's own error page may still be loading)."""
    for _ in range(40):
        page.wait_for_load_state()
        try:
            return str(page.content())
        except sync_api.Error:
            page.wait_for_timeout(250)
    raise AssertionError(f"{page.url} kept navigating")


def _watch(page: Any) -> list[str]:
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    return messages


def test_the_office_manages_people_and_the_calendar_in_a_browser(live, world, session, hasher, browser, clock,
                                                                  raise_order, tmp_path):  # noqa: F811
    from server.auth.models import Role
    from tests import factories

    factories.user(session, hasher, Role.ADMIN, username="root", display_name="管理员")
    session.commit()
    clock.set(local(2026, 12, 30, 10, 0))
    order = raise_order(0)  # its five working days run into 2027: provisional
    assert order.due_provisional

    # -- the admin creates an inspector without a password and sets up the phone from the QR code
    admin = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = admin.new_page()
    blocked = _watch(page)
    log_in(page, live, "root")
    page.click("header.top nav a:has-text('人员')")
    page.wait_for_url("**/console/people")
    page.click("a:has-text('新建人员')")
    page.fill("#new-person input[name=username]", "xiaozhang")
    page.fill("#new-person input[name=display_name]", "小张")
    page.select_option("#new-person select[name=role]", "inspector")
    page.fill("#new-person input[name=phone]", "13800000009")
    page.click("#new-person button[type=submit]")
    page.wait_for_url("**/console/people/*")
    assert "已创建 小张 的账号" in page.inner_text("main")
    page.click("#enrol-form button[type=submit]")
    page.wait_for_load_state()
    qr = page.locator("#enrol-qr svg")
    assert qr.is_visible() and qr.bounding_box()["width"] >= 200  # big enough to scan from the screen
    code = page.inner_text("#enrol-code").strip()
    shoot(page, "people-enrol-desktop")
    phone = {"id": str(uuid.uuid4()), "name": "小张的手机", "platform": "android", "app_version": "1.0"}
    app = browser.new_context()  # the phone: no console cookie
    enrolled = app.request.post(f"{live}/api/v1/auth/enrol", data={"code": code, "device": phone})
    assert enrolled.status == 200 and enrolled.json()["user"]["username"] == "xiaozhang"
    token = enrolled.json()["token"]
    again = app.request.post(f"{live}/api/v1/auth/enrol", data={"code": code, "device": {"id": str(uuid.uuid4())}})
    assert again.status == 401

    # -- and a liaison of a unit, with a password typed in
    page.goto(f"{live}/console/people/new")
    page.fill("#new-person input[name=username]", "xiaoli")
    page.fill("#new-person input[name=display_name]", "小李")
    page.select_option("#new-person select[name=role]", "liaison")
    page.select_option("#new-person select[name=unit_id]", str(world.units[1].id))
    page.fill("#new-person input[name=password]", "巡查-lantern-orchard-47")
    page.click("#new-person button[type=submit]")
    page.wait_for_url("**/console/people/*")
    page.goto(f"{live}/console/people")
    assert page.locator("tr.person[data-username=xiaozhang]").inner_text().count("1 部") == 1  # its phone
    assert "市新华书店" in page.locator("tr.person[data-username=xiaoli]").inner_text()
    shoot(page, "people-desktop")

    # -- the admin loads 2027's schedule: the provisional deadline moves and the unit is told
    page.goto(f"{live}/console/holidays?year=2027")
    assert "暂定" in page.inner_text("#year-status")
    clock.set(local(2026, 12, 30, 11, 0))
    page.fill("#load-form input[name=source]", "国务院办公厅关于2027年部分节假日安排的通知")
    assert page.input_value("#load-form textarea[name=days]").startswith("日期,类型,名称")
    page.fill("#load-form textarea[name=days]", "日期,类型,名称\n2027-01-01,休,元旦\n2027-01-04,休,元旦\n"
                                                "2027-01-10,班,调休上班")
    page.click("#load-form button[type=submit]")
    page.wait_for_url("**/console/holidays?year=2027")
    moved = page.locator("#moved-orders tbody tr")
    assert moved.count() == 1 and "2027-01-08 17:30" in moved.inner_text() and "市审计局" in moved.inner_text()
    assert page.locator("td.holiday[data-date='2027-01-04']").count() == 1
    shoot(page, "holidays-desktop")
    assert not [m for m in blocked if "Content Security Policy" in m], blocked

    # -- a supervisor on a phone: a bad file lists its rows, a good one is checked, then imported
    sup = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    mobile = sup.new_page()
    blocked_on_phone = _watch(mobile)
    log_in(mobile, live, "sup")
    mobile.goto(f"{live}/console/people")
    assert mobile.locator("tr.person[data-username=sup]").count() == 0  # staff are the admins'
    shoot(mobile, "people-phone")
    mobile.click("a:has-text('批量导入人员')")
    bad = write_xlsx(tmp_path / "人员.xlsx", [USER_HEADER, ["zhaoyi", "赵一", "检查员", "", "", "", ""],
                                                 ["boss", "老板", "管理员", "", "", "", "巡查-lantern-orchard-47"],
                                                 ["ghost", "幽灵", "联络员", "NOPE", "", "", ""]])
    mobile.set_input_files("#import-form input[type=file]", str(bad))
    mobile.click("#import-form button[type=submit]")
    mobile.wait_for_load_state()
    problems = mobile.locator("#check-problems tbody tr")
    assert problems.count() == 2 and "3" in problems.nth(0).inner_text() and "4" in problems.nth(1).inner_text()
    assert "只能由管理员创建" in problems.nth(0).inner_text()  # in Chinese
    assert mobile.locator("#confirm-form").count() == 0
    shoot(mobile, "people-import-problems-phone")
    good = write_xlsx(tmp_path / "人员2.xlsx", [USER_HEADER, ["zhaoyi", "赵一", "检查员", "", "", "", ""]])
    mobile.set_input_files("#import-form input[type=file]", str(good))
    mobile.click("#import-form button[type=submit]")
    mobile.wait_for_load_state()
    assert "新增 1 条" in mobile.inner_text("#check-ok") and mobile.locator("#preview tbody tr").count() == 1
    shoot(mobile, "people-import-check-phone")
    mobile.click("#confirm-form button[type=submit]")
    mobile.wait_for_load_state()
    assert mobile.locator("#generated-passwords tbody tr").count() == 1
    password = mobile.inner_text("#generated-passwords code.secret-value").strip()
    assert login_status(app, live, "zhaoyi", password) == 200
    shoot(mobile, "people-import-done-phone")
    # Shown once: a reload posts the used token again (410), and the history keeps no copy.
    mobile.reload()
    mobile.wait_for_load_state()
    assert "已过期或已经导入" in mobile.inner_text("main") and password not in mobile.content()
    for step in (mobile.go_back, mobile.go_forward):
        try:
            step()
        except sync_api.Error:
            pass  # a POST's answer is no-store: Chromium will not show it again without posting it
        assert password not in _settled_content(mobile)

    # -- and disables the inspector created above: the phone's token stops working
    mobile.goto(f"{live}/console/people?q=xiaozhang")
    mobile.click("tr.person[data-username=xiaozhang] a")
    mobile.fill("#disable-form input[name=reason]", "调离")
    mobile.click("#disable-form button[type=submit]")
    mobile.wait_for_load_state()
    assert "已注销 1 个登录" in mobile.inner_text("main")
    me = app.request.get(f"{live}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status == 401
    shoot(mobile, "person-phone")
    assert not [m for m in blocked_on_phone if "Content Security Policy" in m], blocked_on_phone
    for context in (admin, sup, app):
        context.close()
