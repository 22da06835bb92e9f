from __future__ import annotations

from server import create_app


def test_healthz_answers_while_the_database_does(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_is_a_problem_503_when_the_database_is_gone(app_config, clock, tmp_path):
    # A directory cannot be opened as an SQLite database file.
    app = create_app({**app_config, "DATABASE_URL": f"sqlite:///{tmp_path}"}, clock=clock)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.content_type == "application/problem+json"
    assert response.get_json()["code"] == "service_unavailable"
    app.extensions["xuncha.db"].dispose()


def test_version_names_release_and_schema_revision(client):
    body = client.get("/api/v1/version").get_json()
    assert body["api"] == "v1"
    assert body["version"] == "0.1.0"
    from alembic.script import ScriptDirectory

    from server.migrations import alembic_config

    assert body["database_revision"] == ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def test_openapi_document_comes_from_the_schemas(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    login = spec["paths"]["/api/v1/auth/login"]["post"]
    assert login["security"] == []
    body_schema = login["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(spec["components"]["schemas"][body_schema]["properties"]) == {"username", "password", "device"}
    assert "bearer" in spec["components"]["securitySchemes"]
    problem = spec["components"]["schemas"]["Problem"]["properties"]
    assert {"type", "code", "title", "status", "errors"} <= set(problem)
    assert "/api/v1/units/{unit_id}" in spec["paths"]
