"""The console's login session over the Flask test client: cookie flags, CSRF, logout, and the
bearer-only API left as it was."""

from __future__ import annotations

import re

import pytest

from server.auth.models import AuthToken, Device
from tests.factories import PASSWORD
from tests.world import order_for_unit_finding

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _csrf(client, path: str = "/console/login") -> str:  # type: ignore[no-untyped-def]
    page = client.get(path)
    return CSRF.search(page.get_data(as_text=True)).group(1)


def _log_in(client, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/console/login", data={"username": username, "password": password,
                                                "csrf_token": _csrf(client)})


def test_login_sets_an_httponly_lax_cookie_that_expires_and_opens_the_console(client, world):
    answer = _log_in(client, "sup")
    assert answer.status_code == 302 and answer.headers["Location"] == "/console/"
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert "Secure" not in cookie
    home = client.get("/console/", follow_redirects=True)
    assert home.status_code == 200 and "sup" in home.get_data(as_text=True)
    assert home.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in home.headers["Content-Security-Policy"]


def test_the_secure_flag_is_configurable(app_config, clock, world):  # type: ignore[no-untyped-def]
    from server import create_app

    app = create_app({**app_config, "CONSOLE_COOKIE_SECURE": True}, clock=clock)
    client = app.test_client()
    answer = client.post("/console/login", data={"username": "sup", "password": PASSWORD,
                                                 "csrf_token": _csrf(client)}, base_url="https://localhost")
    assert answer.status_code == 302 and "Secure" in answer.headers["Set-Cookie"]
    app.extensions["xuncha.db"].dispose()


def test_a_wrong_password_is_refused_counted_and_audited(client, world, session):
    answer = _log_in(client, "sup", "wrong-password")
    assert answer.status_code == 401 and "用户名或密码错误" in answer.get_data(as_text=True)
    assert client.get("/console/queue").status_code == 302  # still logged out
    from server.audit.models import AuditEvent
    import sqlalchemy as sa

    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                          .where(AuditEvent.action == "auth.login_failed")) == 1


def test_the_login_throttle_holds_for_the_console(app_config, clock, world):  # type: ignore[no-untyped-def]
    from server import create_app

    app = create_app({**app_config, "LOGIN_RATE_LIMIT": "2 per 15 minutes"}, clock=clock)
    client = app.test_client()
    for _ in range(2):
        assert _log_in(client, "sup", "wrong-password").status_code == 401
    refused = _log_in(client, "sup")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "登录失败次数过多" in refused.get_data(as_text=True)
    app.extensions["xuncha.db"].dispose()


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(client, world, session):
    refused = client.post("/console/login", data={"username": "sup", "password": PASSWORD})
    assert refused.status_code == 400 and "表单已失效" in refused.get_data(as_text=True)
    forged = client.post("/console/login", data={"username": "sup", "password": PASSWORD, "csrf_token": "x" * 40})
    assert forged.status_code == 400
    assert session.query(AuthToken).count() == 0
    assert _log_in(client, "sup").status_code == 302
    assert client.post("/console/logout").status_code == 400  # logging out is a form too
    assert client.get("/console/queue").status_code == 200


def test_logout_revokes_the_token_behind_the_cookie(client, world, session):
    _log_in(client, "sup")
    stolen = client.get_cookie("xuncha_console").value
    assert client.post("/console/logout", data={"csrf_token": _csrf(client, "/console/queue")}).status_code == 302
    assert session.query(AuthToken).one().revoked_at is not None
    client.set_cookie("xuncha_console", stolen)  # an old copy of the cookie opens nothing
    assert client.get("/console/queue").status_code == 302
    assert client.get("/api/v1/auth/me").status_code == 401


def test_a_console_login_is_a_browser_device_with_the_console_lifetime(client, world, session, clock):
    _log_in(client, "liaison")
    token = session.query(AuthToken).one()
    assert session.get(Device, token.device_id).platform == "web"
    assert (token.expires_at - token.created_at).total_seconds() == 8 * 3600


def test_the_cookie_opens_the_api_for_reads_and_unsafe_requests_need_the_csrf_header(client, world, phone):
    order_id = order_for_unit_finding(world, phone("alice"), phone("liaison"))
    _log_in(client, "sup")
    assert client.get(f"/api/v1/orders/{order_id}").status_code == 200
    body = {"reason": "现场复核"}
    assert client.post(f"/api/v1/orders/{order_id}/escalate", json=body).status_code == 400
    token = _csrf(client, "/console/queue")
    answer = client.post(f"/api/v1/orders/{order_id}/escalate", json=body, headers={"X-CSRFToken": token})
    assert answer.status_code == 200 and answer.json["level"] == 2


def test_the_bearer_api_needs_no_csrf_token(client, world):
    login = client.post("/api/v1/auth/login", json={"username": "sup", "password": PASSWORD,
                                                    "device": {"name": "phone"}})
    assert login.status_code == 200
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {login.json['token']}"})
    assert me.status_code == 200 and "Set-Cookie" not in me.headers


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_login_never_sends_the_browser_to_another_site(client, world, target):
    answer = client.post("/console/login", data={"username": "sup", "password": PASSWORD, "next": target,
                                                 "csrf_token": _csrf(client)})
    assert answer.headers["Location"] == "/console/"


def test_a_liaison_lands_on_the_units_open_orders_and_sees_no_other_units(client, world, phone):
    order_for_unit_finding(world, phone("alice"), phone("liaison"))
    _log_in(client, "liaison2")
    page = client.get("/console/", follow_redirects=True)
    assert page.status_code == 200 and "暂无待办整改单" in page.get_data(as_text=True)
    client.post("/console/logout", data={"csrf_token": _csrf(client, "/console/unit/orders")})
    _log_in(client, "liaison")
    text = client.get("/console/unit/orders").get_data(as_text=True)
    assert "办公楼西侧杂物堆积墙边" in text


def test_the_html_bulletin_opens_with_the_console_session_under_the_strict_policy(client, world):
    assert client.get("/api/v1/bulletins/html?start=2026-10-05&end=2026-10-15").status_code == 401
    _log_in(client, "sup")
    page = client.get("/api/v1/bulletins/html?start=2026-10-05&end=2026-10-15")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "script-src" not in page.headers["Content-Security-Policy"]  # the documents' policy, not the console's
    assert page.headers["Cache-Control"] == "private, no-cache"
    link = client.get("/console/dashboard").get_data(as_text=True)
    assert "/api/v1/bulletins/html?start=" in link
