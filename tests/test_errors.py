"""Every error is application/problem+json with a stable code, and bad input changes nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.auth.models import AuthToken
from sync_protocol.problems import ProblemCode

PROBLEM = "application/problem+json"


def assert_problem(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == PROBLEM
    body = response.get_json()
    assert body["status"] == status and body["code"] == code
    assert body["type"] == ProblemCode(code).type_uri
    assert body["title"]
    return body


def test_unknown_route(client):
    assert_problem(client.get("/api/v1/no-such-thing"), 404, "not_found")


def test_unknown_method_names_the_allowed_ones(client):
    response = client.put("/api/v1/auth/login", json={})
    assert_problem(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_malformed_json(client, session):
    response = client.post("/api/v1/auth/login", data=b"{not json", content_type="application/json")
    body = assert_problem(response, 400, "malformed_request")
    assert body["errors"][0]["message"]
    assert session.scalar(sa.select(sa.func.count()).select_from(AuthToken)) == 0


def test_validation_errors_name_each_offending_field(client):
    response = client.post("/api/v1/auth/login", json={"username": 3, "device": {"id": "not-a-uuid"}})
    body = assert_problem(response, 422, "validation_failed")
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"username", "password", "device.id"}


def test_query_validation_errors_say_they_are_in_the_query(client, session, hasher):
    from server.auth.models import Role
    from tests import factories
    from tests.test_auth import bearer, login

    factories.user(session, hasher, Role.ADMIN, username="root")
    session.commit()
    token = login(client, "root").get_json()["token"]
    body = assert_problem(client.get("/api/v1/units?limit=0", headers=bearer(token)), 422, "validation_failed")
    assert body["errors"] == [{"field": "query.limit", "message": "Must be greater than or equal to 1."}]
    body = assert_problem(client.get("/api/v1/units?limit=5000", headers=bearer(token)), 422, "validation_failed")
    assert body["errors"][0]["message"] == "must be at most 1000"


@pytest.mark.parametrize("limit,size,status", [(1024, 1000, 422), (1024, 2048, 413)])
def test_body_size_limit_is_a_setting(app_config, clock, limit, size, status):
    from server import create_app

    app = create_app({**app_config, "MAX_BODY_BYTES": limit}, clock=clock)
    body = b'{"username": "' + b"x" * (size - 16) + b'"}'
    response = app.test_client().post("/api/v1/auth/login", data=body, content_type="application/json")
    assert response.status_code == status
    if status == 413:
        assert_problem(response, 413, "payload_too_large")
    app.extensions["xuncha.db"].dispose()


def test_an_unexpected_failure_is_a_problem_500_without_internals(app):
    @app.get("/boom")
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    body = assert_problem(response, 500, "internal_error")
    assert "secret" not in response.get_data(as_text=True)
    assert "changed nothing" in body["detail"]


def test_chinese_text_is_sent_as_is(client):
    response = client.post("/api/v1/auth/login", json={"username": "检查员", "password": "错误的密码x"})
    assert response.status_code == 401
    assert "\\u" not in response.get_data(as_text=True)


def test_authentication_comes_before_body_validation(client):
    response = client.post("/api/v1/sync/push", json={"not": "a push"})
    assert response.status_code == 401 and response.get_json()["code"] == "unauthenticated"
