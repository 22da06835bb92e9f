"""The throttle: one contract for every counter store (the app's database, Redis, memory),
the limits per account, per address and per request, and their answers."""

from __future__ import annotations

import socket
import threading
import uuid

import pytest
from limits import parse
from limits.strategies import SlidingWindowCounterRateLimiter

from server.auth.throttle import DATABASE, build_throttle_storage
from server.auth.throttle_storage import purge_expired
from tests.factories import PASSWORD
from tests.test_auth import PROBLEM, bearer, login, world  # noqa: F401  (the fixture)


def _redis_running() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture(params=["database", "redis", "memory"])
def storage(request, app):  # type: ignore[no-untyped-def]
    if request.param == "redis" and not _redis_running():
        pytest.skip("no Redis on 127.0.0.1:6379")
    uri = {"database": DATABASE, "redis": "redis://127.0.0.1:6379/0", "memory": "memory://"}[request.param]
    storage = build_throttle_storage(uri, app.extensions["xuncha.db"].engine)
    yield storage
    if request.param != "redis":  # the shared Redis keeps its counters; each test's keys are its own
        storage.reset()


def test_every_store_counts_a_sliding_window_the_same(storage):
    limiter = SlidingWindowCounterRateLimiter(storage)
    item, key = parse("3 per hour"), f"test-{uuid.uuid4()}"
    assert [limiter.hit(item, key) for _ in range(4)] == [True, True, True, False]
    assert not limiter.test(item, key)
    stats = limiter.get_window_stats(item, key)
    assert stats.remaining == 0
    assert limiter.test(item, "someone-else")
    limiter.clear(item, key)
    assert limiter.test(item, key) and limiter.get_window_stats(item, key).remaining == 3


def test_every_store_counts_concurrent_hits_exactly(storage):
    """Eight threads, each on its own connection, count one key at once: none is lost and
    the limit lets exactly five through."""
    limiter = SlidingWindowCounterRateLimiter(storage)
    item, key = parse("5 per hour"), f"race-{uuid.uuid4()}"
    results: list[bool] = []
    start = threading.Barrier(8)

    def hit() -> None:
        start.wait()
        results.append(limiter.hit(item, key))

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 3 + [True] * 5
    assert limiter.get_window_stats(item, key).remaining == 0


def test_the_database_store_forgets_ended_windows(app, session):
    storage = build_throttle_storage(DATABASE, app.extensions["xuncha.db"].engine)
    storage.incr("short", expiry=0.001)
    storage.incr("long", expiry=3600)
    assert purge_expired(session) == 1
    session.commit()
    assert storage.get("long") == 1 and storage.get("short") == 0


def test_the_store_setting_refuses_an_unknown_scheme(app_config):
    from server import create_app
    from server.settings import ConfigError

    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI"):
        create_app({**app_config, "RATELIMIT_STORAGE_URI": "carrier-pigeon://loft"})


def test_an_address_spraying_many_accounts_is_locked_out(app_config, clock, world):  # noqa: F811
    from server import create_app

    app = create_app({**app_config, "LOGIN_RATE_LIMIT": "10 per hour", "LOGIN_ADDRESS_RATE_LIMIT": "4 per hour"},
                     clock=clock)
    client = app.test_client()
    for username in ("sup", "insp", "liai", "nobody"):
        assert login(client, username, "Winter2024!").status_code == 401
    limited = login(client, "admin")
    assert limited.status_code == 429 and limited.content_type == PROBLEM
    assert int(limited.headers["Retry-After"]) >= 1
    # Another address is not locked out by this one.
    other = client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD},
                        environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 200
    app.extensions["xuncha.db"].dispose()


def test_an_account_guessed_from_many_addresses_is_locked_out(app_config, clock, world):  # noqa: F811
    from server import create_app

    app = create_app({**app_config, "LOGIN_RATE_LIMIT": "3 per hour"}, clock=clock)
    client = app.test_client()
    for n in range(3):
        assert client.post("/api/v1/auth/login", json={"username": "sup", "password": "Winter2024!"},
                           environ_base={"REMOTE_ADDR": f"10.0.0.{n}"}).status_code == 401
    limited = client.post("/api/v1/auth/login", json={"username": "SUP ", "password": PASSWORD},
                          environ_base={"REMOTE_ADDR": "10.0.0.99"})
    assert limited.status_code == 429
    app.extensions["xuncha.db"].dispose()


def test_wrong_current_passwords_lock_the_account_out_of_logins_too(app_config, clock, world):  # noqa: F811
    from server import create_app

    app = create_app({**app_config, "LOGIN_RATE_LIMIT": "2 per hour"}, clock=clock)
    client = app.test_client()
    token = login(client, "insp").get_json()["token"]
    body = {"old_password": "guess-number-1", "new_password": "巡查-lantern-orchard-47"}
    assert [client.post("/api/v1/auth/password", json=body, headers=bearer(token)).status_code
            for _ in range(3)] == [422, 422, 429]
    assert login(client, "insp").status_code == 429
    app.extensions["xuncha.db"].dispose()


def test_requests_to_the_token_endpoints_are_limited_per_address(app_config, clock, world):  # noqa: F811
    from server import create_app

    app = create_app({**app_config, "AUTH_RATE_LIMIT": "3 per hour"}, clock=clock)
    client = app.test_client()
    assert [login(client, "sup").status_code for _ in range(4)] == [200, 200, 200, 429]
    refused = client.post("/api/v1/auth/login", json={"username": "sup"})  # counted before it is read
    assert refused.status_code == 429 and "address" in refused.get_json()["detail"]
    other = client.post("/api/v1/auth/login", json={"username": "sup", "password": PASSWORD},
                        environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 200
    app.extensions["xuncha.db"].dispose()


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_one_counted(app_config, clock, world):  # noqa: F811
    from server import create_app

    app = create_app({**app_config, "TRUSTED_PROXIES": 1, "LOGIN_ADDRESS_RATE_LIMIT": "1 per hour"}, clock=clock)
    client = app.test_client()

    def from_(address: str, password: str):  # type: ignore[no-untyped-def]
        return client.post("/api/v1/auth/login", json={"username": "sup", "password": password},
                           headers={"X-Forwarded-For": address})

    assert from_("203.0.113.7", "Winter2024!").status_code == 401
    assert from_("203.0.113.7", PASSWORD).status_code == 429
    assert from_("198.51.100.2", PASSWORD).status_code == 200
    app.extensions["xuncha.db"].dispose()
