"""Changing, resetting, disabling and enabling accounts over real HTTP on a real database:
each revokes every token of the account, for good, and is audited."""

from __future__ import annotations

import sqlalchemy as sa

from server.audit.models import AuditEvent
from server.auth.models import AuthToken, User
from tests.factories import PASSWORD
from tests.test_auth import PROBLEM, bearer, login, world  # noqa: F401  (the fixture)

NEW_PASSWORD = "巡查-lantern-orchard-47"


def _events(session, action):  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)
                           .order_by(AuditEvent.occurred_at)).all()


def _live_tokens(session, user_id):  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.scalar(sa.select(sa.func.count()).select_from(AuthToken).where(
        AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None)))


def _change(client, token, old, new):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/auth/password", json={"old_password": old, "new_password": new},
                       headers=bearer(token))


def test_changing_the_password_revokes_every_token_and_answers_a_new_one(client, world, session):
    phone = login(client, "insp").get_json()
    browser = login(client, "insp").get_json()
    changed = _change(client, phone["token"], PASSWORD, NEW_PASSWORD)
    assert changed.status_code == 200, changed.get_json()
    answer = changed.get_json()
    assert answer["device_id"] == phone["device_id"] and answer["token"] not in {phone["token"], browser["token"]}
    for old in (phone, browser):
        refused = client.get("/api/v1/auth/me", headers=bearer(old["token"]))
        assert refused.status_code == 401 and "revoked" in refused.get_json()["detail"]
    assert client.get("/api/v1/auth/me", headers=bearer(answer["token"])).status_code == 200
    assert _live_tokens(session, world["inspector"].id) == 1
    assert login(client, "insp").status_code == 401
    assert login(client, "insp", NEW_PASSWORD).status_code == 200
    [event] = _events(session, "auth.password_changed")
    assert event.actor_id == world["inspector"].id and event.data == {"revoked_tokens": 2}


def test_a_wrong_current_password_changes_nothing_and_counts_as_a_failed_login(client, world, session):
    token = login(client, "insp").get_json()["token"]
    before = session.get(User, world["inspector"].id).password_hash
    refused = _change(client, token, "not-my-password-1", NEW_PASSWORD)
    assert refused.status_code == 422 and refused.content_type == PROBLEM
    assert refused.get_json()["errors"] == [{"field": "old_password", "message": "is not the current password"}]
    session.expire_all()
    assert session.get(User, world["inspector"].id).password_hash == before
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200
    [event] = _events(session, "auth.password_change_failed")
    assert event.actor_id == world["inspector"].id and event.data["username"] == "insp"


def test_a_common_or_trivial_new_password_is_refused_saying_why(client, world, session):
    token = login(client, "insp").get_json()["token"]
    for weak, why in (("password1", "very common password"), ("qwertyuiop", "top-100"), ("zxcvbnm,./asdf", "rows of keys"),
                      ("insp-insp-insp", "Repeats"), ("short1!", "at least 8 characters")):
        refused = _change(client, token, PASSWORD, weak)
        assert refused.status_code == 422, weak
        [error] = refused.get_json()["errors"]
        assert error["field"] == "new_password" and why in error["message"], (weak, error)
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200
    assert login(client, "insp").status_code == 200


def test_an_admin_resets_a_password_and_every_token_of_the_account_stops(client, world, session):
    admin = login(client, "admin").get_json()["token"]
    victim = login(client, "liai").get_json()["token"]
    url = f"/api/v1/users/{world['liaison'].id}/password"
    assert client.post(url, json={"password": NEW_PASSWORD},
                       headers=bearer(login(client, "insp").get_json()["token"])).status_code == 403
    weak = client.post(url, json={"password": "liaison123"}, headers=bearer(admin))
    assert weak.status_code == 422 and weak.get_json()["errors"][0]["field"] == "password"
    assert client.get("/api/v1/auth/me", headers=bearer(victim)).status_code == 200
    reset = client.post(url, json={"password": NEW_PASSWORD, "reason": "忘记密码"}, headers=bearer(admin))
    assert reset.status_code == 200 and reset.get_json()["revoked"] == 1
    assert client.get("/api/v1/auth/me", headers=bearer(victim)).status_code == 401
    assert login(client, "liai").status_code == 401 and login(client, "liai", NEW_PASSWORD).status_code == 200
    [event] = _events(session, "auth.password_reset")
    assert event.reason == "忘记密码" and event.entity_id == str(world["liaison"].id)
    missing = client.post("/api/v1/users/999999/password", json={"password": NEW_PASSWORD}, headers=bearer(admin))
    assert missing.status_code == 404


def test_disabling_revokes_the_tokens_and_enabling_brings_none_back(client, world, session):
    admin = login(client, "admin").get_json()["token"]
    old = login(client, "insp").get_json()["token"]
    user_id = world["inspector"].id
    disabled = client.post(f"/api/v1/users/{user_id}/disable", json={"reason": "离职"}, headers=bearer(admin))
    assert disabled.status_code == 200
    assert disabled.get_json()["user"]["active"] is False and disabled.get_json()["revoked"] == 1
    assert client.get("/api/v1/auth/me", headers=bearer(old)).status_code == 401
    assert login(client, "insp").status_code == 401
    enabled = client.post(f"/api/v1/users/{user_id}/enable", json={}, headers=bearer(admin))
    assert enabled.status_code == 200 and enabled.get_json()["user"]["active"] is True
    refused = client.get("/api/v1/auth/me", headers=bearer(old))
    assert refused.status_code == 401 and "revoked" in refused.get_json()["detail"]
    assert _live_tokens(session, user_id) == 0
    fresh = login(client, "insp")
    assert fresh.status_code == 200
    assert client.get("/api/v1/auth/me", headers=bearer(fresh.get_json()["token"])).status_code == 200
    assert [e.action for e in _events(session, "user.disabled") + _events(session, "user.enabled")] == [
        "user.disabled", "user.enabled"]


def test_an_admin_cannot_disable_their_own_account(client, world, session):
    admin = login(client, "admin").get_json()["token"]
    refused = client.post(f"/api/v1/users/{world['admin'].id}/disable", json={}, headers=bearer(admin))
    assert refused.status_code == 409 and refused.content_type == PROBLEM
    assert client.get("/api/v1/auth/me", headers=bearer(admin)).status_code == 200


def test_failed_logins_and_the_lockout_are_audited(app_config, clock, world):  # noqa: F811
    from server import create_app

    app = create_app({**app_config, "LOGIN_RATE_LIMIT": "3 per hour"}, clock=clock)
    client = app.test_client()
    for _ in range(3):
        assert login(client, "sup", "wrong-password1").status_code == 401
    assert login(client, "sup", "wrong-password1").status_code == 429  # refused before it is checked
    assert login(client, "nobody", "wrong-password1").status_code == 401
    with app.extensions["xuncha.db"].session() as session:
        failed = _events(session, "auth.login_failed")
        assert [e.data["username"] for e in failed] == ["sup"] * 3 + ["nobody"]
        assert {e.data["address"] for e in failed} == {"127.0.0.1"}
        assert [e.actor_id for e in failed] == [world["supervisor"].id] * 3 + [None]
        [locked] = _events(session, "auth.login_locked")
        assert locked.actor_id == world["supervisor"].id and locked.data["limit"].startswith("login-account")
        assert locked.data["retry_after"] >= 1
    app.extensions["xuncha.db"].dispose()


def test_the_cli_resets_disables_and_enables_accounts(run_cli, client, world, session):
    token = login(client, "insp").get_json()["token"]
    weak = run_cli("reset-password", "insp", "--password", "password123")
    assert weak.exit_code != 0 and "common" in weak.output
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200
    done = run_cli("reset-password", "insp", "--password", NEW_PASSWORD, "--reason", "forgot")
    assert done.exit_code == 0 and "1 token(s) revoked" in done.output, done.output
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401
    token = login(client, "insp", NEW_PASSWORD).get_json()["token"]
    assert run_cli("disable-user", "insp", "--reason", "left").exit_code == 0
    assert login(client, "insp", NEW_PASSWORD).status_code == 401
    assert run_cli("enable-user", "insp").exit_code == 0
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401
    assert login(client, "insp", NEW_PASSWORD).status_code == 200
    unknown = run_cli("disable-user", "nobody")
    assert unknown.exit_code != 0 and "No user 'nobody'" in unknown.output
    actions = [e.action for e in session.scalars(sa.select(AuditEvent).where(AuditEvent.actor_kind == "system")
                                                 .order_by(AuditEvent.occurred_at))]
    assert actions == ["auth.password_reset", "user.disabled", "user.enabled"]


def test_the_policy_applies_where_accounts_are_created(run_cli, world):  # noqa: F811
    refused = run_cli("create-user", "newbie", "--role", "admin", "--password", "newbie2024")
    assert refused.exit_code != 0 and "password" in refused.output
    assert run_cli("create-user", "newbie", "--role", "admin", "--password", NEW_PASSWORD).exit_code == 0


def test_a_password_leaning_on_the_accounts_own_name_is_refused():
    from server.auth.passwords import check_strength

    assert check_strength("wangxiaoming88") is None
    assert "own name" in check_strength("wangxiaoming88", ("wangxiaoming", "王小明", ""))
