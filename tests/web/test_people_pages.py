"""The people pages over the Flask test client, on the real services: who manages whom (the API's
rule), creating, importing with a check step, disabling, resetting, and a phone set up from the
page's QR code."""

from __future__ import annotations

import html
import io
import re
import uuid

import pytest
import sqlalchemy as sa

from server.auth import enrolment
from server.auth.models import Role, User
from server.web.imports import HIDDEN
from tests import factories
from tests.test_auth import bearer, login
from tests.test_bad_input import row_counts
from tests.test_imports import USER_HEADER, write_xlsx
from tests.web.test_session import _csrf, _log_in

STRONG = "巡查-lantern-orchard-47"


@pytest.fixture
def office(session, hasher, world):  # type: ignore[no-untyped-def]
    """The world's campaign (sup, alice, bob, liaison, liaison2), plus an admin, a fellow supervisor
    and another campaign with its inspector."""
    theirs = factories.campaign(session, name="别处双创")
    people = {"root": factories.user(session, hasher, Role.ADMIN, username="root", display_name="管理员"),
              "fellow": factories.user(session, hasher, Role.SUPERVISOR, campaign=world.campaign, username="fellow"),
              "carol": factories.user(session, hasher, Role.INSPECTOR, campaign=theirs, username="carol")}
    session.commit()
    return {"theirs": theirs, **{name: user.id for name, user in people.items()},
            **{name: user.id for name, user in world.users.items()}}


@pytest.fixture
def api(app):  # type: ignore[no-untyped-def]
    """A client of its own for the API: the console's client carries a session cookie, and a
    cookie-carrying unsafe request must name the CSRF token."""
    return app.test_client()


def _page(client, path: str) -> str:  # type: ignore[no-untyped-def]
    answer = client.get(path)
    assert answer.status_code == 200, (path, answer.status_code)
    return answer.get_data(as_text=True)


def _listed(page: str) -> set[str]:
    return set(re.findall(r'data-username="([^"]+)"', page))


def test_an_admin_creates_an_inspector_and_a_liaison(client, api, session, world, office):
    _log_in(client, "root")
    assert "人员</a>" in _page(client, "/console/queue")  # the nav link
    form = _page(client, f"/console/people/new?campaign_id={world.campaign.id}")
    assert all(f'value="{role}"' in form for role in ("admin", "supervisor", "inspector", "liaison"))
    token = _csrf(client, "/console/people/new")
    made = client.post("/console/people/new", data={
        "csrf_token": token, "campaign_id": world.campaign.id, "username": "xiaozhang", "display_name": "小张",
        "role": "inspector", "phone": "13800000009", "unit_id": "", "email": "", "password": ""})
    assert made.status_code == 302, made.get_data(as_text=True)
    inspector = session.scalar(sa.select(User).where(User.username == "xiaozhang"))
    assert made.headers["Location"] == f"/console/people/{inspector.id}"
    page = _page(client, made.headers["Location"])
    assert "已创建 小张 的账号" in page and 'id="enrol-form"' in page  # set up by a code: no password told
    liaison = client.post("/console/people/new", data={
        "csrf_token": token, "campaign_id": world.campaign.id, "username": "xiaoli", "display_name": "小李",
        "role": "liaison", "unit_id": world.units[1].id, "password": STRONG})
    assert liaison.status_code == 302
    assert login(api, "xiaoli", STRONG).status_code == 200
    listed = _page(client, f"/console/people?role=liaison&unit_id={world.units[1].id}")
    assert _listed(listed) == {"xiaoli", "liaison2"}
    session.rollback()
    made = session.scalar(sa.select(User).where(User.username == "xiaoli"))
    assert (made.role, made.unit_id, made.campaign_id) == (Role.LIAISON, world.units[1].id, world.campaign.id)


def test_a_bad_form_comes_back_with_its_errors_and_nothing_written(client, session, world, office):
    _log_in(client, "sup")
    token = _csrf(client, "/console/people/new")
    before = row_counts(session)
    for data, said in (({"username": "alice", "role": "inspector"}, "用户名“alice”已被使用"),  # 409
                       ({"username": "weak", "role": "inspector", "password": "password1"}, "太容易被猜到"),
                       ({"username": "nounit", "role": "liaison"}, "单位联络员须属于一个单位")):
        answer = client.post("/console/people/new", data={"csrf_token": token, "display_name": "某人", **data})
        page = answer.get_data(as_text=True)
        assert answer.status_code in (409, 422) and 'id="form-errors"' in page and said in html.unescape(page)
        assert data["username"] in page and "password1" not in page  # kept, but never the password
    assert row_counts(session) == before


def test_a_supervisor_manages_only_their_campaigns_inspectors_and_liaisons(client, session, world, office):
    _log_in(client, "sup")
    assert _listed(_page(client, "/console/people")) == {"alice", "bob", "liaison", "liaison2"}
    assert _listed(_page(client, "/console/people?q=liaison2")) == {"liaison2"}
    form = _page(client, "/console/people/new")
    assert 'value="inspector"' in form and 'value="supervisor"' not in form and 'value="admin"' not in form
    # another campaign's inspector and an admin are not there at all; a fellow supervisor is seen, not managed
    for name in ("carol", "root"):
        assert client.get(f"/console/people/{office[name]}").status_code == 404
    fellow = _page(client, f"/console/people/{office['fellow']}")
    assert "该账号由管理员管理" in fellow and "disable-form" not in fellow and "password-form" not in fellow
    token = _csrf(client, "/console/people")
    before = row_counts(session)
    for name, status in (("fellow", 403), ("carol", 404), ("root", 404)):
        for action in ("disable", "password", "enrolment"):
            answer = client.post(f"/console/people/{office[name]}/{action}", data={"csrf_token": token})
            assert answer.status_code == status, (name, action)
    for data, status in (({"role": "admin", "password": STRONG}, 403), ({"role": "supervisor", "password": STRONG}, 403),
                         ({"role": "inspector", "campaign_id": office["theirs"].id}, 404)):
        answer = client.post("/console/people/new", data={"csrf_token": token, "username": "sneaky",
                                                           "display_name": "某人", **data})
        assert answer.status_code == status, data
    assert row_counts(session) == before


def test_disabling_revokes_the_tokens_and_enabling_brings_none_back(client, api, session, world, office):
    phone = login(api, "alice").get_json()["token"]
    _log_in(client, "sup")
    token = _csrf(client, f"/console/people/{office['alice']}")
    done = client.post(f"/console/people/{office['alice']}/disable", data={"csrf_token": token, "reason": "调离"})
    assert done.status_code == 302
    page = _page(client, done.headers["Location"])
    assert "账号已停用，已注销 1 个登录" in page and "enable-form" in page
    assert api.get("/api/v1/auth/me", headers=bearer(phone)).status_code == 401
    assert login(api, "alice").status_code == 401
    assert "已停用" in _page(client, "/console/people?state=disabled")
    client.post(f"/console/people/{office['alice']}/enable", data={"csrf_token": token})
    assert api.get("/api/v1/auth/me", headers=bearer(phone)).status_code == 401  # the old token stays revoked
    assert login(api, "alice").status_code == 200
    assert "停用账号" in _page(client, f"/console/people/{office['alice']}")  # the history


def test_a_reset_shows_a_strong_password_once(client, api, session, world, office):
    phone = login(api, "liaison").get_json()["token"]
    _log_in(client, "sup")
    token = _csrf(client, f"/console/people/{office['liaison']}")
    answer = client.post(f"/console/people/{office['liaison']}/password", data={"csrf_token": token,
                                                                                "reason": "忘记密码"})
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    password = re.search(r'id="new-password">([^<]+)<', answer.get_data(as_text=True)).group(1)
    assert api.get("/api/v1/auth/me", headers=bearer(phone)).status_code == 401
    assert login(api, "liaison", password).status_code == 200
    assert password not in _page(client, f"/console/people/{office['liaison']}")


def test_the_qr_code_on_the_page_sets_up_a_phone_once(client, api, session, world, office):
    _log_in(client, "sup")
    token = _csrf(client, f"/console/people/{office['bob']}")
    answer = client.post(f"/console/people/{office['bob']}/enrolment", data={"csrf_token": token})
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    code = re.search(r'id="enrol-code">([^<]+)<', page).group(1)
    uri = html.unescape(re.search(r'class="note uri">([^<]+)<', page).group(1))
    assert uri == f"xuncha://enrol?server=http%3A%2F%2Flocalhost&code={code}"
    # the QR code drawn inline is that URI's, with nothing the page's policy would block
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    assert svg == enrolment.qr_svg(uri) and "style" not in svg and "<script" not in page
    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
    device = {"id": str(uuid.uuid4()), "name": "小米", "platform": "android"}
    enrolled = api.post("/api/v1/auth/enrol", json={"code": code, "device": device})
    assert enrolled.status_code == 200 and enrolled.get_json()["user"]["username"] == "bob"
    assert api.get("/api/v1/auth/me", headers=bearer(enrolled.get_json()["token"])).status_code == 200
    again = api.post("/api/v1/auth/enrol", json={"code": code, "device": {"id": str(uuid.uuid4())}})
    assert again.status_code == 401
    person = _page(client, f"/console/people/{office['bob']}")
    assert "小米" in person and "扫码设置手机" in person and code not in person


# -- importing ----------------------------------------------------------------------------------------

def _check(client, token, rows, tmp_path, name="人员.xlsx", **form):  # type: ignore[no-untyped-def]
    data = write_xlsx(tmp_path / name, rows).read_bytes()
    return client.post("/console/people/import", data={"csrf_token": token, "file": (io.BytesIO(data), name), **form},
                       content_type="multipart/form-data")


def _confirm_form(checked) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """Where the check's confirm posts, and the token it names."""
    page = checked.get_data(as_text=True)
    form = re.search(r'<form method="post" id="confirm-form" action="([^"]+)">.*?name="token" value="([^"]+)"',
                     page, re.S)
    assert form, page
    return html.unescape(form.group(1)), form.group(2)


def _problems(answer) -> list[tuple[int, str, str]]:  # type: ignore[no-untyped-def]
    page = html.unescape(answer.get_data(as_text=True))
    table = page[page.index('id="check-problems"'):]
    return [(int(line), column, message) for line, column, message in re.findall(
        r'<tr><td class="line" data-label="行">(\d+)</td>\s*<td data-label="列">([^<]+)</td>\s*'
        r'<td data-label="问题">([^<]+)</td></tr>', table)]


def _generated(answer) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return dict(re.findall(r'<td data-label="用户名">(\w+)</td>\s*<td data-label="初始密码">'
                           r'<code class="secret-value">([^<]+)</code>', answer.get_data(as_text=True)))


def test_an_import_with_a_bad_file_lists_every_row_in_chinese_and_writes_nothing(client, session, world, office,
                                                                                 tmp_path):
    _log_in(client, "sup")
    token = _csrf(client, "/console/people/import")
    rows = [USER_HEADER,
            ["zhaoyi", "赵一", "检查员", "", "13800000001", "", ""],
            ["boss", "老板", "督查员", "", "", "", STRONG],  # a staff role: the admins'
            ["carol", "卡罗", "检查员", "", "", "", ""],  # another campaign's inspector
            ["ghost", "幽灵", "联络员", "NOPE", "", "", ""],
            ["", "无名", "检查员", "", "", "", ""],
            ["sunsan", "孙三", "检查员", world.units[0].code, "", "", "password1"]]
    before = row_counts(session)
    answer = _check(client, token, rows, tmp_path)
    assert answer.status_code == 422
    assert _problems(answer) == [
        (3, "角色", "管理员、督查人员的账号只能由管理员创建"),
        (4, "用户名", "该用户名已被您无权管理的账号使用"),
        (5, "单位", f"{world.campaign.name}中没有编码为“NOPE”的单位"),
        (6, "用户名", "不能为空"),
        (7, "单位", "只有单位联络员属于单位，其他角色不填单位"),
        (7, "密码", "太容易被猜到：请用几个不常见的词连成更长的密码，避开常见密码、姓名、日期、键盘上相邻的键和重复的字符")]
    page = answer.get_data(as_text=True)
    assert "confirm-form" not in page and "未导入任何数据" in page and 'id="import-form"' in page
    assert row_counts(session) == before
    missing = client.post("/console/people/import", data={"csrf_token": token}, content_type="multipart/form-data")
    assert missing.status_code == 422 and "请选择 .xlsx 或 .csv" in missing.get_data(as_text=True)


def test_an_import_is_checked_then_confirmed_and_its_passwords_are_shown_once(app, client, api, session, world,
                                                                             office, tmp_path):
    _log_in(client, "sup")
    token = _csrf(client, "/console/people/import")
    rows = [USER_HEADER,
            ["zhaoyi", "赵一", "检查员", "", "13800000001", "", ""],
            ["qianer", "钱二", "联络员", world.units[0].code, "", "", STRONG],
            ["bob", "鲍勃（改名）", "检查员", "", "", "", ""]]
    before = row_counts(session)
    checked = _check(client, token, rows, tmp_path)
    assert checked.status_code == 200
    page = checked.get_data(as_text=True)
    assert "“人员.xlsx”检查通过：共 3 行，导入后将新增 2 条、更新 1 条，0 条不变。" in page
    assert "将为 1 个新账号生成初始密码" in page and 'id="preview"' in page and "钱二" in page
    assert STRONG not in page and HIDDEN in page  # the preview hides the passwords the file gives
    assert 'id="import-form"' not in page  # the file is chosen once
    assert row_counts(session) == before  # the check wrote nothing
    action, staged = _confirm_form(checked)
    assert action == f"/console/people/import/{world.campaign.id}/confirm"

    done = client.post(action, data={"csrf_token": token, "token": staged})
    assert done.status_code == 200
    page = done.get_data(as_text=True)
    assert "已导入“人员.xlsx”：新增 2 条，更新 1 条，0 条不变。" in page and "confirm-form" not in page
    generated = _generated(done)
    assert list(generated) == ["zhaoyi"] and page.count(generated["zhaoyi"]) == 1
    assert login(api, "zhaoyi", generated["zhaoyi"]).status_code == 200
    assert login(api, "qianer", STRONG).status_code == 200
    session.rollback()
    assert session.scalar(sa.select(User.display_name).where(User.username == "bob")) == "鲍勃（改名）"

    # Kept nowhere: not in the session cookie, not on a reload of the answer nor on the page.
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert generated["zhaoyi"] not in str(app.session_interface.get_signing_serializer(app).loads(cookie.value))
    counted = row_counts(session)
    reload = client.post(action, data={"csrf_token": token, "token": staged})
    assert reload.status_code == 410 and "已过期或已经导入" in reload.get_data(as_text=True)
    assert not _generated(reload) and generated["zhaoyi"] not in reload.get_data(as_text=True)
    assert generated["zhaoyi"] not in _page(client, "/console/people/import")
    assert generated["zhaoyi"] not in _page(client, "/console/people?q=zhaoyi")
    assert row_counts(session) == counted

    # The same file again changes nothing, and makes up no password.
    again = _check(client, token, rows, tmp_path)
    assert "导入后将新增 0 条、更新 0 条，3 条不变" in again.get_data(as_text=True)
    same = client.post(_confirm_form(again)[0], data={"csrf_token": token, "token": _confirm_form(again)[1]})
    assert same.status_code == 200 and not _generated(same) and "新增 0 条，更新 0 条，3 条不变" in same.get_data(as_text=True)


def test_a_checked_file_is_imported_only_by_whoever_checked_it(app, client, session, world, office, tmp_path):
    _log_in(client, "sup")
    token = _csrf(client, "/console/people/import")
    checked = _check(client, token, [USER_HEADER, ["zhaoyi", "赵一", "检查员", "", "", "", ""]], tmp_path)
    action, staged = _confirm_form(checked)
    others = {username: app.test_client() for username in ("fellow", "root")}  # same campaign's; an admin
    csrf = {username: (_log_in(other, username), _csrf(other, "/console/people/import"))[1]
            for username, other in others.items()}
    before = row_counts(session)
    for username, other in others.items():
        refused = other.post(action, data={"csrf_token": csrf[username], "token": staged})
        assert refused.status_code == 410 and not _generated(refused), username
    units = f"/console/office/campaigns/{world.campaign.id}/import/units/confirm"
    assert client.post(units, data={"csrf_token": token, "token": staged}).status_code == 410  # not a units file
    assert client.post(action, data={"csrf_token": token, "token": staged[:-2]}).status_code == 410  # forged
    theirs = f"/console/people/import/{office['theirs'].id}/confirm"
    assert client.post(theirs, data={"csrf_token": token, "token": staged}).status_code == 404  # not their campaign
    assert row_counts(session) == before
    assert list(_generated(client.post(action, data={"csrf_token": token, "token": staged}))) == ["zhaoyi"]


def test_a_confirm_judges_the_rows_again_and_imports_nothing_that_no_longer_fits(client, session, hasher, world,
                                                                                 office, tmp_path):
    _log_in(client, "sup")
    token = _csrf(client, "/console/people/import")
    rows = [USER_HEADER, ["zhaoyi", "赵一", "检查员", "", "", "", ""], ["qianer", "钱二", "检查员", "", "", "", ""]]
    action, staged = _confirm_form(_check(client, token, rows, tmp_path))
    # Meanwhile an admin gives the username to an account of another campaign.
    factories.user(session, hasher, Role.INSPECTOR, campaign=office["theirs"], username="qianer")
    session.commit()
    before = row_counts(session)
    refused = client.post(action, data={"csrf_token": token, "token": staged})
    assert refused.status_code == 422 and not _generated(refused)
    assert _problems(refused) == [(3, "用户名", "该用户名已被您无权管理的账号使用")]
    assert row_counts(session) == before


def test_an_admin_imports_into_the_campaign_they_choose(client, api, session, world, office, tmp_path):
    _log_in(client, "root")
    form = _page(client, "/console/people/import")
    assert world.campaign.name in form and office["theirs"].name in form  # a choice: two campaigns
    token = _csrf(client, "/console/people/import")
    rows = [USER_HEADER, ["zhouwu", "周五", "督查员", "", "", "", STRONG], ["wuliu", "吴六", "检查员", "", "", "", ""]]
    checked = _check(client, token, rows, tmp_path, campaign_id=office["theirs"].id)
    assert checked.status_code == 200 and f"导入到：{office['theirs'].name}" in checked.get_data(as_text=True)
    action, staged = _confirm_form(checked)
    assert action == f"/console/people/import/{office['theirs'].id}/confirm"
    done = client.post(action, data={"csrf_token": token, "token": staged})
    assert list(_generated(done)) == ["wuliu"]
    session.rollback()
    made = {u.username: (u.role, u.campaign_id) for u in session.scalars(
        sa.select(User).where(User.username.in_(["zhouwu", "wuliu"])))}
    assert made == {"zhouwu": (Role.SUPERVISOR, office["theirs"].id), "wuliu": (Role.INSPECTOR, office["theirs"].id)}
    assert login(api, "zhouwu", STRONG).status_code == 200
    # "Choose another file" keeps the campaign chosen.
    theirs = office["theirs"].id
    assert f'value="{theirs}" selected' in _page(client, f"/console/people/import?campaign_id={theirs}")


def test_a_locked_out_account_shows_so_and_a_reset_lifts_the_lockout(app_config, clock, world, office):
    from server import create_app

    app = create_app({**app_config, "LOGIN_RATE_LIMIT": "3 per hour"}, clock=clock)
    try:  # its own engine, closed even when an assertion fails: PostgreSQL empties tables after
        console, api = app.test_client(), app.test_client()
        for _ in range(3):
            assert login(api, "bob", "wrong-password1").status_code == 401
        assert login(api, "bob").status_code == 429
        _log_in(console, "sup")
        row = re.search(r'<tr class="person" data-username="bob">.*?</tr>', _page(console, "/console/people"), re.S)
        assert re.search(r"登录失败过多，锁定约 \d+ 分钟", row.group(0))  # the wait is the throttle's window
        token = _csrf(console, f"/console/people/{office['bob']}")
        answer = console.post(f"/console/people/{office['bob']}/password", data={"csrf_token": token})
        password = re.search(r'id="new-password">([^<]+)<', answer.get_data(as_text=True)).group(1)
        assert login(api, "bob", password).status_code == 200
        state = re.search(r'<dd id="person-state">(.*?)</dd>', _page(console, f"/console/people/{office['bob']}"), re.S)
        assert "锁定" not in state.group(1) and "正常" in state.group(1)
    finally:
        app.extensions["xuncha.db"].dispose()


def test_every_event_of_an_account_has_its_words(client, api, world, office):
    """The history on a person's page names each kind of event the account's trail can hold."""
    from server.web.text import ZH_CN

    assert login(api, "bob", "wrong-password1").status_code == 401
    assert login(api, "bob").status_code == 200
    _log_in(client, "sup")
    page = _page(client, f"/console/people/{office['bob']}")
    assert "登录失败" in page and "people.event." not in page
    recorded = {"user.created", "user.disabled", "user.enabled", "auth.password_reset", "auth.password_changed",
                "auth.enrolment_issued", "auth.enrolled", "auth.user_tokens_revoked", "auth.login",
                "auth.login_failed", "auth.login_locked", "auth.login_demo_password", "auth.password_change_failed"}
    assert {f"people.event.{action}" for action in recorded} <= set(ZH_CN)


def _export_link(page: str) -> str | None:
    found = re.search(r'id="people-export">[^<]*<a href="([^"]+)"', page)
    return html.unescape(found.group(1)) if found else None


def test_the_list_downloads_as_the_users_file_of_the_people_managed(client, api, world, office):
    from openpyxl import load_workbook

    def usernames(answer) -> list[str]:  # type: ignore[no-untyped-def]
        assert answer.status_code == 200
        rows = list(load_workbook(io.BytesIO(answer.data)).active.iter_rows(values_only=True))
        assert rows[0] == ("用户名", "姓名", "角色", "单位编码", "电话", "邮箱")
        return [row[0] for row in rows[1:]]

    _log_in(client, "sup")
    link = _export_link(_page(client, "/console/people"))
    assert link is not None and "format=xlsx" in link
    # the people the list shows: no admin, no fellow supervisor, no other campaign's
    assert usernames(client.get(link)) == ["alice", "bob", "liaison", "liaison2"]
    # an admin of several campaigns picks one in the filter first
    _log_in(api, "root")
    assert _export_link(_page(api, "/console/people")) is None
    link = _export_link(_page(api, f"/console/people?campaign_id={world.campaign.id}"))
    assert link is not None and f"campaign_id={world.campaign.id}" in link
    assert usernames(api.get(link)) == ["root", "fellow", "sup", "alice", "bob", "liaison", "liaison2"]
