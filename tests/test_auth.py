"""Login, tokens, devices and the role checks, through real HTTP requests on a real database."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from server.audit.models import AuditEvent
from server.auth.models import AuthToken, Device, Role, User
from server.auth.services import hash_token
from tests import factories
from tests.factories import PASSWORD

PROBLEM = "application/problem+json"


@pytest.fixture
def world(session, hasher):  # type: ignore[no-untyped-def]
    campaign = factories.campaign(session)
    unit = factories.unit(session, campaign)
    users = {
        "admin": factories.user(session, hasher, Role.ADMIN, username="admin"),
        "supervisor": factories.user(session, hasher, Role.SUPERVISOR, campaign=campaign, username="sup"),
        "inspector": factories.user(session, hasher, Role.INSPECTOR, campaign=campaign, username="insp"),
        "liaison": factories.user(session, hasher, Role.LIAISON, campaign=campaign, unit=unit, username="liai"),
    }
    session.commit()
    return users


def login(client, username, password=PASSWORD, device_id=None, **extra):  # type: ignore[no-untyped-def]
    device = {"name": "测试机", "platform": "android", "app_version": "1.0"}
    if device_id:
        device["id"] = str(device_id)
    return client.post("/api/v1/auth/login", json={"username": username, "password": password,
                                                   "device": device, **extra})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_login_returns_a_token_bound_to_user_and_registered_device(client, world, session, clock):
    device_id = uuid.uuid4()
    response = login(client, "sup", device_id=device_id)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["user"]["username"] == "sup" and body["user"]["role"] == "supervisor"
    assert body["device_id"] == str(device_id)
    assert dt.datetime.fromisoformat(body["expires_at"]) == clock.now() + dt.timedelta(days=30)

    token = session.scalar(sa.select(AuthToken))
    assert token.token_hash == hash_token(body["token"]) and body["token"] not in token.token_hash
    assert token.device_id == device_id and token.user_id == world["supervisor"].id
    assert session.get(Device, device_id).platform == "android"
    actions = set(session.scalars(sa.select(AuditEvent.action)))
    assert {"auth.login", "device.registered"} <= actions

    me = client.get("/api/v1/auth/me", headers=bearer(body["token"]))
    assert me.status_code == 200
    assert me.get_json()["user"]["id"] == world["supervisor"].id


def test_a_browser_login_without_device_id_gets_one(client, world, session):
    response = login(client, "sup")
    assert response.status_code == 200
    assert session.get(Device, uuid.UUID(response.get_json()["device_id"])) is not None


@pytest.mark.parametrize("username,password", [("sup", "wrong-password1"), ("nobody", PASSWORD)])
def test_wrong_credentials_are_a_problem_401_and_issue_nothing(client, world, session, username, password):
    response = login(client, username, password)
    assert response.status_code == 401
    assert response.content_type == PROBLEM
    body = response.get_json()
    assert body["code"] == "invalid_credentials"
    assert body["type"] == "urn:xuncha:problem:invalid_credentials"
    assert body["status"] == 401 and body["title"]
    assert session.scalar(sa.select(sa.func.count()).select_from(AuthToken)) == 0


def test_disabled_user_cannot_log_in(client, world, session):
    session.get(User, world["inspector"].id).active = False
    session.commit()
    assert login(client, "insp").status_code == 401


def test_inspector_is_refused_on_a_supervisor_route(client, world):
    inspector = login(client, "insp").get_json()["token"]
    supervisor = login(client, "sup").get_json()["token"]
    refused = client.get("/api/v1/users", headers=bearer(inspector))
    assert refused.status_code == 403 and refused.content_type == PROBLEM
    assert refused.get_json()["code"] == "forbidden"
    allowed = client.get("/api/v1/users", headers=bearer(supervisor))
    assert allowed.status_code == 200
    assert {u["username"] for u in allowed.get_json()["items"]} == {"sup", "insp", "liai"}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer xc_not-a-token"},
                                     {"Authorization": "Basic c3VwOnB3"}])
def test_missing_or_unknown_token_is_401(client, world, headers):
    response = client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 401 and response.content_type == PROBLEM
    assert response.get_json()["code"] == "unauthenticated"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_token_expires(client, world, clock):
    token = login(client, "insp").get_json()["token"]
    clock.advance(dt.timedelta(days=30) - dt.timedelta(seconds=1))
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200
    clock.advance(dt.timedelta(seconds=1))
    response = client.get("/api/v1/auth/me", headers=bearer(token))
    assert response.status_code == 401 and "expired" in response.get_json()["detail"]


def test_logout_revokes_only_that_token(client, world):
    first = login(client, "insp").get_json()["token"]
    second = login(client, "insp").get_json()["token"]
    assert client.post("/api/v1/auth/logout", headers=bearer(first)).status_code == 204
    assert client.get("/api/v1/auth/me", headers=bearer(first)).status_code == 401
    assert client.get("/api/v1/auth/me", headers=bearer(second)).status_code == 200


def test_admin_revokes_a_token_a_user_and_a_device(client, world, session):
    admin = login(client, "admin").get_json()["token"]
    phone = uuid.uuid4()
    insp = login(client, "insp", device_id=phone).get_json()
    sup = login(client, "sup").get_json()

    assert client.post(f"/api/v1/auth/tokens/{sup['token_id']}/revoke", json={"reason": "测试"},
                       headers=bearer(admin)).get_json() == {"revoked": 1}
    assert client.get("/api/v1/auth/me", headers=bearer(sup["token"])).status_code == 401

    response = client.post(f"/api/v1/devices/{phone}/revoke", json={"reason": "手机丢失"}, headers=bearer(admin))
    assert response.get_json() == {"revoked": 1}
    assert client.get("/api/v1/auth/me", headers=bearer(insp["token"])).status_code == 401
    again = login(client, "insp", device_id=phone)
    assert again.status_code == 403 and again.get_json()["code"] == "device_revoked"
    assert login(client, "insp", device_id=uuid.uuid4()).status_code == 200

    other = login(client, "liai").get_json()["token"]
    revoked = client.post(f"/api/v1/users/{world['liaison'].id}/revoke-tokens", json={}, headers=bearer(admin))
    assert revoked.get_json() == {"revoked": 1}
    assert client.get("/api/v1/auth/me", headers=bearer(other)).status_code == 401
    reasons = set(session.scalars(sa.select(AuditEvent.reason).where(AuditEvent.action.like("%revoked%"))))
    assert {"测试", "手机丢失"} <= reasons


def test_only_admins_revoke(client, world):
    sup = login(client, "sup").get_json()
    response = client.post(f"/api/v1/auth/tokens/{sup['token_id']}/revoke", json={}, headers=bearer(sup["token"]))
    assert response.status_code == 403


def test_failed_logins_are_rate_limited_per_address_and_username(app_config, clock, world):
    from server import create_app

    app = create_app({**app_config, "LOGIN_RATE_LIMIT": "3 per minute"}, clock=clock)
    client = app.test_client()
    for _ in range(3):
        assert login(client, "sup", "wrong-password1").status_code == 401
    limited = login(client, "sup", PASSWORD)
    assert limited.status_code == 429 and limited.content_type == PROBLEM
    assert limited.get_json()["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    # Another username from the same address is not locked out by someone else's typos.
    assert login(client, "insp").status_code == 200
    app.extensions["xuncha.db"].dispose()


def test_a_correct_login_resets_the_failure_count(app_config, clock, world):
    from server import create_app

    app = create_app({**app_config, "LOGIN_RATE_LIMIT": "3 per minute"}, clock=clock)
    client = app.test_client()
    for _ in range(2):
        login(client, "sup", "wrong-password1")
    assert login(client, "sup").status_code == 200
    for _ in range(2):
        assert login(client, "sup", "wrong-password1").status_code == 401
    assert login(client, "sup").status_code == 200
    app.extensions["xuncha.db"].dispose()


def test_password_hashes_are_argon2id(world):
    assert world["supervisor"].password_hash.startswith("$argon2id$")
