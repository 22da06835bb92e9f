"""Input that once crashed the server (500) is a 4xx problem that changes nothing.

Each case is refused where every endpoint shares the rule: the schema fields
(sync_protocol/fields.py), the body decoder (server/bodies.py), the route converters, the
error map (server/errors.py) and the request stream (server/compression.py).
"""

from __future__ import annotations

import http.client
import threading
import uuid
from typing import Any, Iterator

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from server.models import Base
from tests.test_auth import bearer, login
from tests.test_errors import PROBLEM, assert_problem
from tests.world import finding_fields, order_for_unit_finding

#: One past what an SQL INTEGER (ids, versions, counts) holds, and one past a BIGINT (sequences).
PAST_INTEGER = 2 ** 31
PAST_BIGINT = 2 ** 63


def row_counts(session) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Rows in every table (and the sync counter): "changed nothing", checked whole.

    The throttle's counters are left out: counting a refused request is what they are for.
    """
    session.rollback()  # a fresh transaction sees what requests committed
    counts = {t.name: session.scalar(sa.select(sa.func.count()).select_from(t)) for t in Base.metadata.sorted_tables
              if t.name != "rate_limit_counters"}
    counts["sync_counter.value"] = session.scalar(sa.text("SELECT value FROM sync_counter"))
    return counts


@pytest.fixture
def sup(client, world) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(login(client, "sup").get_json()["token"])


@pytest.fixture
def admin(client, session, hasher) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from server.auth.models import Role
    from tests import factories

    factories.user(session, hasher, Role.ADMIN, username="root")
    session.commit()
    return bearer(login(client, "root").get_json()["token"])


@pytest.fixture
def order_id(world, phone) -> str:  # type: ignore[no-untyped-def]
    return order_for_unit_finding(world, phone("alice"), phone("liaison"))


def _push(client, token: dict[str, str], device_id: str, mutations: list[dict[str, Any]],
          **overrides: Any):  # type: ignore[no-untyped-def]
    body = {"protocol": 1, "device_id": device_id, "sent_at": "2026-10-23T09:00:00+08:00",
            "mutations": mutations, **overrides}
    return client.post("/api/v1/sync/push", json=body, headers=token)


def _finding(seq: Any, unit_id: int, **fields: Any) -> dict[str, Any]:
    return {"seq": seq, "entity": "finding", "id": str(uuid.uuid4()), "op": "create",
            "fields": finding_fields(unit_id, **fields), "device_time": "2026-10-23T09:00:00+08:00"}


def _document(client) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return client.get("/api/v1/openapi.json").get_json()


# -- integers beyond what their columns hold ---------------------------------------------------

def test_every_integer_query_parameter_refuses_a_number_its_column_cannot_hold(client, session, world, sup, admin):
    """Walks the OpenAPI document, so a new parameter is covered the day it is added; as a
    supervisor, or an admin where a supervisor may not go."""
    before = row_counts(session)
    tried = []
    for path, operations in _document(client)["paths"].items():
        if "{" in path or "get" not in operations:
            continue
        for parameter in operations["get"].get("parameters", []):
            if parameter["in"] == "query" and parameter["schema"].get("type") == "integer":
                query = {parameter["name"]: PAST_INTEGER}
                response = client.get(path, query_string=query, headers=sup)
                if response.status_code == 403:
                    response = client.get(path, query_string=query, headers=admin)
                body = assert_problem(response, 422, "validation_failed")
                assert f"query.{parameter['name']}" in {e["field"] for e in body["errors"]}
                tried.append(f"{path}?{parameter['name']}")
    assert len(tried) >= 8, tried
    assert row_counts(session) == before


def test_every_integer_path_parameter_refuses_a_number_its_column_cannot_hold(client, session, world, sup):
    before = row_counts(session)
    tried = []
    for path, operations in _document(client)["paths"].items():
        parameters = operations.get("parameters", [])
        integers = [p["name"] for p in parameters if p["in"] == "path" and p["schema"].get("type") == "integer"]
        if not integers:
            continue
        url = path
        for name in integers:
            url = url.replace("{" + name + "}", str(PAST_INTEGER))
        for method in set(operations) - {"parameters"}:
            response = client.open(url, method=method.upper(), json={}, headers=sup)
            # No route takes the number: 404, or 405 where werkzeug first met the same path
            # routed for another method.
            assert response.status_code in (404, 405), (method, url)
            assert_problem(response, response.status_code,
                           "not_found" if response.status_code == 404 else "method_not_allowed")
            tried.append(f"{method} {path}")
    assert len(tried) >= 15, tried
    assert row_counts(session) == before


@pytest.mark.parametrize("where", ["seq", "unit_id", "base_version"])
def test_a_push_refuses_integers_beyond_their_columns(client, session, world, phone, where):
    alice = phone("alice")
    mutation = _finding(1, world.units[0].id)
    if where == "seq":
        mutation["seq"] = PAST_BIGINT
    elif where == "unit_id":
        mutation["fields"]["unit_id"] = PAST_INTEGER
    else:
        mutation["base_version"] = PAST_INTEGER
    before = row_counts(session)
    response = _push(client, bearer(alice.store.get("token")), alice.device_id, [mutation])
    if where == "unit_id":  # a mutation's fields are checked one mutation at a time: rejected alone
        assert response.status_code == 200
        result = response.get_json()["results"][0]
        assert result["outcome"] == "rejected" and result["problem"]["code"] == "invalid_fields"
        assert result["problem"]["errors"] == [{"field": "fields.unit_id",
                                                "message": f"must be between {-2 ** 31} and {2 ** 31 - 1}"}]
        return
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"][0]["field"] == f"mutations.0.{where}"
    assert row_counts(session) == before


# -- dates and limits out of range -------------------------------------------------------------

@pytest.mark.parametrize("sent_at", ["9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+00:00"])
def test_a_push_sent_at_a_date_out_of_range_is_refused(client, session, world, phone, sent_at):
    alice = phone("alice")
    before = row_counts(session)
    response = _push(client, bearer(alice.store.get("token")), alice.device_id,
                     [_finding(1, world.units[0].id)], sent_at=sent_at)
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"] == [{"field": "sent_at", "message": "must lie between the years 1900 and 2999"}]
    assert row_counts(session) == before


def test_a_phone_whose_clock_fell_back_to_1970_still_syncs(client, session, world, phone):
    alice = phone("alice")
    response = _push(client, bearer(alice.store.get("token")), alice.device_id,
                     [_finding(1, world.units[0].id)], sent_at="1970-01-01T00:00:10+00:00")
    assert response.status_code == 200 and response.get_json()["results"][0]["outcome"] == "applied"


@pytest.mark.parametrize("body", [{"extra": "100000wd", "reason": "x"}, {"extra": "10000d", "reason": "x"},
                                  {"until": "9999-12-31T00:00:00+08:00", "reason": "x"}])
def test_an_extension_beyond_any_calendar_is_refused(client, session, order_id, sup, body):
    before = row_counts(session)
    order = client.get(f"/api/v1/orders/{order_id}", headers=sup).get_json()
    response = client.post(f"/api/v1/orders/{order_id}/extend", json=body, headers=sup)
    problem = assert_problem(response, 422, "validation_failed")
    assert problem["errors"][0]["field"] == next(iter(body))
    assert client.get(f"/api/v1/orders/{order_id}", headers=sup).get_json() == order
    assert row_counts(session) == before


def test_the_longest_extension_is_taken(client, order_id, sup):
    response = client.post(f"/api/v1/orders/{order_id}/extend", json={"extra": "9999wd", "reason": "长期整改"},
                           headers=sup)
    assert response.status_code == 200, response.get_json()


# -- JSON that is too deep, or holds what no column takes --------------------------------------

def _nested(depth: int) -> bytes:
    return b'{"username": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b', "password": "x"}'


@pytest.mark.parametrize("depth", [600, 1100])
def test_deeply_nested_json_is_refused_before_anyone_logs_in(client, session, world, depth):
    before = row_counts(session)
    response = client.post("/api/v1/auth/login", data=_nested(depth), content_type="application/json")
    body = assert_problem(response, 400, "malformed_request")
    assert "deeper" in body["detail"] or "depth" in body["detail"]
    assert row_counts(session) == before


def test_deeply_nested_json_is_refused_in_a_push(client, session, world, phone):
    alice = phone("alice")
    before = row_counts(session)
    mutation = _finding(1, world.units[0].id)
    deep: Any = "x"
    for _ in range(600):
        deep = [deep]
    mutation["fields"]["description"] = deep
    response = _push(client, bearer(alice.store.get("token")), alice.device_id, [mutation])
    assert_problem(response, 400, "malformed_request")
    assert row_counts(session) == before


def test_the_depth_limit_is_a_setting(app_config, clock):
    from server import create_app
    from server.settings import ConfigError

    app = create_app({**app_config, "MAX_JSON_DEPTH": 3}, clock=clock)
    try:
        client = app.test_client()
        # {"device": {"id": ...}} is 2 deep and validates; one level more is refused unread.
        shallow = client.post("/api/v1/auth/login", json={"username": "u", "password": "p", "device": {"name": "x"}})
        assert shallow.status_code == 401
        deep = client.post("/api/v1/auth/login", json={"username": "u", "password": "p", "device": {"name": [["x"]]}})
        assert_problem(deep, 400, "malformed_request")
    finally:
        app.extensions["xuncha.db"].dispose()
    with pytest.raises(ConfigError, match="MAX_JSON_DEPTH"):
        create_app({**app_config, "MAX_JSON_DEPTH": 2000}, clock=clock)


def test_a_lone_surrogate_is_refused_at_login(client, session, world):
    before = row_counts(session)
    response = client.post("/api/v1/auth/login", data=b'{"username": "\\ud800", "password": "x"}',
                           content_type="application/json")
    body = assert_problem(response, 400, "malformed_request")
    assert "surrogate" in body["detail"]
    assert row_counts(session) == before


@pytest.mark.parametrize("field", ["username", "device.name"])
def test_nul_is_refused_at_login(client, session, world, field):
    body = {"username": "sup", "password": "x", "device": {"name": "phone"}}
    if field == "username":
        body["username"] = "sup\x00"
    else:
        body["device"]["name"] = "a\x00b"
    before = row_counts(session)
    problem = assert_problem(client.post("/api/v1/auth/login", json=body), 422, "validation_failed")
    assert problem["errors"] == [{"field": field, "message": "must not contain the NUL character"}]
    assert row_counts(session) == before


def test_nul_is_refused_in_a_push_even_where_the_envelope_takes_any_object(client, session, world, phone):
    alice = phone("alice")
    mutation = _finding(1, world.units[0].id)
    mutation["fields"]["no such field\x00"] = 1
    before = row_counts(session)
    response = _push(client, bearer(alice.store.get("token")), alice.device_id, [mutation])
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"][0]["field"] == "mutations.0.fields.no such field\\u0000"  # named, not echoed
    assert row_counts(session) == before


def test_nul_in_a_query_string_is_refused_by_the_string_field(client, session, sup):
    before = row_counts(session)
    body = assert_problem(client.get("/api/v1/orders?after=%00", headers=sup), 422, "validation_failed")
    assert body["errors"] == [{"field": "query.after", "message": "must not contain the NUL character"}]
    assert row_counts(session) == before


# -- conflicts, media types, sizes, limits, missing bodies -------------------------------------

def test_a_response_id_another_order_uses_is_a_conflict(client, session, world, phone, sup):
    alice, liaison = phone("alice"), phone("liaison")
    for _ in range(2):
        alice.create("finding", finding_fields(world.units[0].id))
    alice.sync()
    liaison.pull()
    first, second = [i for (_, i) in liaison.store.records("order")]
    token = bearer(liaison.store.get("token"))
    response_id = str(uuid.uuid4())
    answered = client.post(f"/api/v1/orders/{first}/respond", json={"response_id": response_id, "measures": "已清理"},
                           headers=token)
    assert answered.status_code == 200, answered.get_json()
    before = row_counts(session)
    order = client.get(f"/api/v1/orders/{second}", headers=sup).get_json()
    response = client.post(f"/api/v1/orders/{second}/respond", json={"response_id": response_id, "measures": "已清理"},
                           headers=token)
    assert_problem(response, 409, "conflict")
    assert client.get(f"/api/v1/orders/{second}", headers=sup).get_json() == order
    assert row_counts(session) == before


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_a_body_that_is_not_json_is_415(client, session, world, content_type):
    before = row_counts(session)
    response = client.post("/api/v1/auth/login", data=b'{"username": "sup", "password": "x"}',
                           content_type=content_type)
    assert_problem(response, 415, "unsupported_media_type")
    assert row_counts(session) == before


def test_a_view_reading_json_without_a_schema_refuses_the_same(client, session, admin):
    before = row_counts(session)
    response = client.put("/api/v1/escalation-policy", data=b'{"name": "x"}', content_type="text/plain",
                          headers=admin)
    assert_problem(response, 415, "unsupported_media_type")
    assert_problem(client.put("/api/v1/escalation-policy", headers=admin), 400, "malformed_request")
    assert row_counts(session) == before


def test_escalate_without_a_body_is_refused(client, session, order_id, sup):
    before = row_counts(session)
    order = client.get(f"/api/v1/orders/{order_id}", headers=sup).get_json()
    response = client.post(f"/api/v1/orders/{order_id}/escalate", headers=sup)
    assert_problem(response, 400, "malformed_request")
    assert client.get(f"/api/v1/orders/{order_id}", headers=sup).get_json() == order
    assert row_counts(session) == before
    escalated = client.post(f"/api/v1/orders/{order_id}/escalate", json={}, headers=sup)
    assert escalated.status_code == 200 and escalated.get_json()["level"] == order["level"] + 1


def test_orders_limit_beyond_the_maximum_is_refused_not_capped(app, client, sup):
    app.config["PAGE_SIZE_MAX"] = 5
    body = assert_problem(client.get("/api/v1/orders?limit=6", headers=sup), 422, "validation_failed")
    assert body["errors"] == [{"field": "query.limit", "message": "must be at most 5"}]
    assert client.get("/api/v1/orders?limit=5", headers=sup).status_code == 200


@pytest.fixture
def served(app) -> Iterator[int]:  # type: ignore[no-untyped-def]
    """The test app behind a real HTTP server (chunked bodies need one)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    thread.join()


@pytest.mark.parametrize("size,status", [(1000, 422), (1024, 422), (1025, 413), (50_000, 413)])
def test_a_chunked_body_past_the_limit_is_413(app, session, world, served, size, status):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    head, tail = b'{"username": "', b'", "password": "x"}'  # too long a name: 422 once read whole
    body = head + b"u" * (size - len(head) - len(tail)) + tail

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 100):
            yield body[start:start + 100]

    before = row_counts(session)
    connection = http.client.HTTPConnection("127.0.0.1", served, timeout=30)
    try:
        connection.request("POST", "/api/v1/auth/login", body=chunks(), encode_chunked=True,
                           headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        assert response.status == status
        assert response.getheader("Content-Type") == PROBLEM
        response.read()
    finally:
        connection.close()
    assert row_counts(session) == before
