"""Headers on every answer: nosniff, Referrer-Policy, Cache-Control on what a token reads, and
CORS only for the origins named in the settings."""

from __future__ import annotations

import pytest

from server import create_app
from server.settings import ConfigError
from tests.test_auth import bearer, login, world  # noqa: F401  (the fixture)

ORIGIN = "https://xuncha.example.cn"


def test_every_answer_says_nosniff_and_no_referrer(client, world):
    for response in (client.get("/healthz"), login(client, "sup"), client.get("/api/v1/no-such-thing"),
                     login(client, "sup", "wrong-password-1")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "Content-Security-Policy" not in response.headers  # JSON, not a page


def test_what_a_token_reads_is_private_to_it(client, world):
    token = login(client, "sup").get_json()["token"]
    assert client.get("/api/v1/auth/me", headers=bearer(token)).headers["Cache-Control"] == "private, no-cache"
    assert client.get("/api/v1/users", headers=bearer(token)).headers["Cache-Control"] == "private, no-cache"
    assert "private" not in client.get("/healthz").headers.get("Cache-Control", "")


def test_the_header_values_are_settings(app_config, clock, world):  # noqa: F811
    app = create_app({**app_config, "REFERRER_POLICY": "same-origin", "AUTHENTICATED_CACHE_CONTROL": "no-store"},
                     clock=clock)
    client = app.test_client()
    token = login(client, "sup").get_json()["token"]
    answer = client.get("/api/v1/auth/me", headers=bearer(token))
    assert answer.headers["Referrer-Policy"] == "same-origin" and answer.headers["Cache-Control"] == "no-store"
    app.extensions["xuncha.db"].dispose()


def _preflight(client, origin):  # type: ignore[no-untyped-def]
    return client.options("/api/v1/auth/me", headers={
        "Origin": origin, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})


def test_cors_is_off_by_default(client, world):
    token = login(client, "sup").get_json()["token"]
    answer = client.get("/api/v1/auth/me", headers={**bearer(token), "Origin": ORIGIN})
    assert answer.status_code == 200 and "Access-Control-Allow-Origin" not in answer.headers
    assert "Access-Control-Allow-Origin" not in _preflight(client, ORIGIN).headers


def test_cors_answers_the_named_origins_only(app_config, clock, world):  # noqa: F811
    app = create_app({**app_config, "CORS_ORIGINS": f"{ORIGIN}/, https://other.example.cn"}, clock=clock)
    client = app.test_client()
    preflight = _preflight(client, ORIGIN)
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    assert preflight.headers["Access-Control-Max-Age"] == "600"
    assert "Access-Control-Allow-Credentials" not in preflight.headers
    token = login(client, "sup").get_json()["token"]
    answer = client.get("/api/v1/auth/me", headers={**bearer(token), "Origin": ORIGIN})
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN and "Origin" in answer.headers["Vary"]
    assert "Retry-After" in answer.headers["Access-Control-Expose-Headers"]
    stranger = client.get("/api/v1/auth/me", headers={**bearer(token), "Origin": "https://evil.example.com"})
    assert "Access-Control-Allow-Origin" not in stranger.headers
    assert "Access-Control-Allow-Origin" not in _preflight(client, "https://evil.example.com").headers
    app.extensions["xuncha.db"].dispose()


def test_an_origin_that_is_not_one_is_refused(app_config):
    with pytest.raises(ConfigError, match="CORS_ORIGINS"):
        create_app({**app_config, "CORS_ORIGINS": "xuncha.example.cn"})
