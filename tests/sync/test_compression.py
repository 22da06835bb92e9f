"""Compressed sync bodies: pulls answered compressed to phones that ask, pushes accepted
gzip-encoded, and every bad compressed body refused without a change."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import uuid

import brotli
import pytest
import sqlalchemy as sa

from server.findings.models import Finding
from server.settings import ConfigError, describe, load_settings
from server.sync.models import DevicePush, SyncReceipt
from tests.test_auth import bearer
from tests.world import finding_fields

try:
    from compression import zstd  # Python 3.14
except ImportError:
    from backports import zstd

PROBLEM = "application/problem+json"
INFLATE = {"gzip": gzip.decompress, "br": brotli.decompress, "zstd": zstd.decompress}


def count(session, model) -> int:  # type: ignore[no-untyped-def]
    session.rollback()  # a fresh transaction sees what the requests committed
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def _batch(device, unit_id: int, n: int) -> bytes:  # type: ignore[no-untyped-def]
    mutations = [{"seq": i + 1, "entity": "finding", "id": str(uuid.uuid4()), "op": "create",
                  "fields": finding_fields(unit_id, description=f"门前杂物堆放，占道经营{i}"),
                  "device_time": "2026-10-23T09:00:00+08:00"} for i in range(n)]
    return json.dumps({"protocol": 1, "device_id": device.device_id, "mutations": mutations,
                       "sent_at": dt.datetime.now(dt.timezone.utc).isoformat()}, ensure_ascii=False).encode()


def _gzip_push(client, device, body: bytes, **headers: str):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/sync/push", data=body, content_type="application/json",
                       headers={**bearer(device.store.get("token")), "Content-Encoding": "gzip", **headers})


@pytest.fixture
def pulled_world(world, phone):  # type: ignore[no-untyped-def]
    """Forty findings pushed, so a first pull page is tens of kilobytes."""
    alice = phone("alice")
    for i in range(40):
        alice.create("finding", finding_fields(world.units[0].id, description=f"门前四包未落实，卫生死角{i}"))
    alice.push()
    return phone("alice")


@pytest.mark.parametrize("accept,expected", [("gzip", "gzip"), ("br;q=1.0, gzip;q=0.5", "br"),
                                             ("zstd, br, gzip", "zstd"), ("identity", None), (None, None)])
def test_a_pull_page_is_compressed_as_the_phone_asks(pulled_world, client, accept, expected):
    token = bearer(pulled_world.store.get("token"))
    plain = client.get("/api/v1/sync/pull?limit=1000", headers=token)
    headers = {**token, **({"Accept-Encoding": accept} if accept else {})}
    answer = client.get("/api/v1/sync/pull?limit=1000", headers=headers)
    assert answer.status_code == 200 and "Accept-Encoding" in answer.headers["Vary"]
    assert answer.headers.get("Content-Encoding") == expected
    body = answer.get_data()
    if expected:
        assert int(answer.headers["Content-Length"]) == len(body) < len(plain.get_data()) / 4
        body = INFLATE[expected](body)
    assert body == plain.get_data()  # the same page, cursor included, whatever the encoding
    assert sum(c["entity"] == "finding" for c in plain.get_json()["changes"]) == 40


def test_the_offered_encodings_and_the_threshold_are_settings(app_config, clock, world, phone, tmp_path):
    from server import create_app

    def encodings(value: str | None = None) -> tuple[str, ...]:
        config = {"INSTANCE_DIR": str(tmp_path)} | ({} if value is None else {"COMPRESS_ENCODINGS": value})
        return load_settings(config, environ={})["COMPRESS_ENCODINGS"]

    assert encodings("gzip, zstd") == ("gzip", "zstd") and encodings("") == ()
    with pytest.raises(ConfigError, match="XUNCHA_COMPRESS_ENCODINGS.*unknown encoding lzma"):
        encodings("gzip,lzma")
    # `xuncha settings` shows the default as the variable is written, and it reads back the same.
    shown = re.search(r"XUNCHA_COMPRESS_ENCODINGS  default '([^']*)'", describe()).group(1)
    assert encodings(shown) == encodings() == ("zstd", "br", "gzip")

    token = bearer(phone("alice").store.get("token"))
    gzip_only = create_app({**app_config, "COMPRESS_ENCODINGS": "gzip"}, clock=clock).test_client()
    answer = gzip_only.get("/api/v1/sync/pull", headers={**token, "Accept-Encoding": "zstd, br, gzip"})
    assert answer.headers["Content-Encoding"] == "gzip"
    never = create_app({**app_config, "COMPRESS_ENCODINGS": ""}, clock=clock).test_client()
    assert "Content-Encoding" not in never.get("/api/v1/sync/pull", headers={**token, "Accept-Encoding": "gzip"}).headers
    big_floor = create_app({**app_config, "COMPRESS_MIN_BYTES": 10**6}, clock=clock).test_client()
    assert "Content-Encoding" not in big_floor.get("/api/v1/sync/pull",
                                                   headers={**token, "Accept-Encoding": "gzip"}).headers
    for made in (gzip_only, never, big_floor):
        made.application.extensions["xuncha.db"].dispose()


def test_small_answers_and_problems_go_uncompressed(client):
    assert "Content-Encoding" not in client.get("/healthz", headers={"Accept-Encoding": "gzip"}).headers
    refused = client.get("/api/v1/sync/pull", headers={"Accept-Encoding": "gzip"})
    assert refused.status_code == 401 and "Content-Encoding" not in refused.headers


def test_a_gzip_push_is_applied_once_like_any_other(world, phone, client, session):
    alice = phone("alice")
    body = _batch(alice, world.units[0].id, 30)
    first = _gzip_push(client, alice, gzip.compress(body))
    assert first.status_code == 200
    assert {r["outcome"] for r in first.get_json()["results"]} == {"applied"}
    again = _gzip_push(client, alice, gzip.compress(body))  # the answer was lost: sent again
    assert {r["outcome"] for r in again.get_json()["results"]} == {"applied"}  # the same answers, replayed
    assert count(session, Finding) == 30 and count(session, SyncReceipt) == 30
    # Several gzip members are one body (RFC 1952), as a client streaming its outbox may send.
    more = _batch(alice, world.units[0].id, 2).replace(b'"seq": 1,', b'"seq": 31,').replace(b'"seq": 2,', b'"seq": 32,')
    split = len(more) // 2
    answer = _gzip_push(client, alice, gzip.compress(more[:split]) + gzip.compress(more[split:]))
    assert answer.status_code == 200 and count(session, Finding) == 32
    # x-gzip is gzip by another name (RFC 9110).
    last = _batch(alice, world.units[0].id, 1).replace(b'"seq": 1,', b'"seq": 33,')
    answer = _gzip_push(client, alice, gzip.compress(last), **{"Content-Encoding": "x-gzip"})
    assert answer.status_code == 200 and count(session, Finding) == 33


@pytest.mark.parametrize("case", ["corrupt", "cut_short", "empty", "bomb", "brotli"])
def test_bad_compressed_bodies_are_refused_and_change_nothing(world, phone, client, session, app, case):
    alice = phone("alice")
    body = _batch(alice, world.units[0].id, 5)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    if case == "corrupt":
        squeezed = bytearray(gzip.compress(body))
        squeezed[len(squeezed) // 2] ^= 0xFF
        response, expected = _gzip_push(client, alice, bytes(squeezed)), (400, "malformed_request")
    elif case == "cut_short":
        response, expected = _gzip_push(client, alice, gzip.compress(body)[:-20]), (400, "malformed_request")
    elif case == "empty":
        response, expected = _gzip_push(client, alice, b""), (400, "malformed_request")
    elif case == "bomb":
        # Two kilobytes that would inflate to ten megabytes: refused once past the limit.
        padded = body[:-1] + b', "padding": "' + b" " * 10_000_000 + b'"}'
        squeezed = gzip.compress(padded, 9)
        assert len(squeezed) < 64 * 1024
        response, expected = _gzip_push(client, alice, squeezed), (413, "payload_too_large")
    else:
        response = _gzip_push(client, alice, brotli.compress(body), **{"Content-Encoding": "br"})
        expected = (415, "unsupported_media_type")
        assert response.headers["Accept-Encoding"] == "gzip"
    assert (response.status_code, response.get_json()["code"]) == expected
    assert response.content_type == PROBLEM
    assert count(session, Finding) == 0 and count(session, SyncReceipt) == 0 and count(session, DevicePush) == 0


def test_a_compressed_body_is_not_inflated_before_the_caller_is_known(world, phone, client, app):
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    bomb = gzip.compress(b"{" + b" " * 10_000_000 + b"}", 9)
    response = client.post("/api/v1/sync/push", data=bomb, content_type="application/json",
                           headers={"Content-Encoding": "gzip", "Authorization": "Bearer xc_not-a-token"})
    assert (response.status_code, response.get_json()["code"]) == (401, "unauthenticated")
