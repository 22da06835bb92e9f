"""The OpenAPI document is valid, complete, and says what errors really look like."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from sync_protocol.problems import PROBLEM_MEDIA_TYPE

#: Routes that are not part of the API: the document itself and Flask's static files.
_NOT_API = {"/api/v1/openapi.json", "/static/{filename}"}
#: The web console's pages (docs/console.md): HTML for people, not part of the API.
_CONSOLE = "/console"


def _document(client):  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_the_document_is_valid_openapi(client):
    validate(_document(client))


def test_every_route_and_method_is_described(app, client):
    paths = _document(client)["paths"]
    missing = []
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        if path in _NOT_API or path == _CONSOLE or path.startswith(_CONSOLE + "/"):
            continue
        described = {m.upper() for m in paths.get(path, {}) if m != "parameters"}
        implicit = {"OPTIONS"} | ({"HEAD"} if "GET" in described else set())  # Flask adds them
        missing += [f"{m} {path}" for m in sorted(rule.methods - described - implicit)]
    assert missing == []


def test_the_uploads_are_described(client):
    paths = _document(client)["paths"]
    assert set(paths["/api/v1/uploads/"]) == {"options", "post"}
    assert set(paths["/api/v1/uploads/{upload_id}"]) == {"parameters", "head", "patch", "delete"}


def test_every_error_response_is_a_problem(client):
    document = _document(client)
    components = document["components"]["responses"]
    seen = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            for status, response in operation["responses"].items():
                if status != "default" and int(status) < 400:
                    continue
                if "$ref" in response:
                    response = components[response["$ref"].rsplit("/", 1)[1]]
                assert set(response["content"]) == {PROBLEM_MEDIA_TYPE}, (method, path, status)
                assert response["content"][PROBLEM_MEDIA_TYPE]["schema"] == {"$ref": "#/components/schemas/Problem"}
                seen += 1
    assert seen > 100
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "code", "title", "status"}


def test_numbers_are_numbers_and_decimals_are_strings(client):
    schemas = _document(client)["components"]["schemas"]
    cap = schemas["OrderDeductions"]["properties"]["cap"]
    assert cap["type"] == "string" and "maximum" not in cap and "10000.00" in cap["description"]
    seq = schemas["Mutation"]["properties"]["seq"]
    assert seq == {"type": "integer", "format": "int64", "minimum": 1, "maximum": 2 ** 63 - 1}
