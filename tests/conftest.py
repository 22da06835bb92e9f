"""Test fixtures: a real database (SQLite file, or PostgreSQL from XUNCHA_TEST_DATABASE_URL)
brought to head by the real migrations once per run, emptied after every test."""

from __future__ import annotations

import datetime as dt
import os
import threading
from typing import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from server import create_app
from server.clock import FrozenClock
from server.db import make_engine
from server.models import Base  # every model, so drop_all knows every table
from server.settings import database_url

pytest_plugins = ["tests.world"]

#: Cheap hashing: argon2 at production cost would dominate the suite's run time.
FAST_ARGON2 = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 8, "ARGON2_PARALLELISM": 1}
START = dt.datetime(2026, 10, 23, 1, 0, tzinfo=dt.timezone.utc)  # 09:00 in Asia/Shanghai


def pytest_report_header() -> str:
    return f"database: {_redacted(os.environ.get('XUNCHA_TEST_DATABASE_URL') or 'SQLite (temporary file)')}"


def _redacted(url: str) -> str:
    return sa.engine.make_url(database_url(url)).render_as_string(hide_password=True) if "://" in url else url


@pytest.fixture(scope="session")
def database_url_for_tests(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("XUNCHA_TEST_DATABASE_URL")
    url = database_url(url) if url else f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        # A database left over by an earlier run starts clean: the migrations must build it.
        Base.metadata.drop_all(conn)
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    from server.cli import upgrade_database

    upgrade_database(url)
    return url


@pytest.fixture
def is_postgres(database_url_for_tests: str) -> bool:
    return database_url_for_tests.startswith("postgresql")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def app_config(database_url_for_tests: str, tmp_path) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {"DATABASE_URL": database_url_for_tests, "INSTANCE_DIR": str(tmp_path / "instance"),
            "TESTING": True, **FAST_ARGON2}


@pytest.fixture
def app(app_config: dict[str, object], clock: FrozenClock) -> Iterator[Flask]:
    app = create_app(app_config, clock=clock)
    yield app
    database = app.extensions["xuncha.db"]
    _empty_tables(database.engine)
    database.dispose()


def _empty_tables(engine: sa.Engine) -> None:
    # The sync counter's one row is part of the schema (made by a migration): reset, not removed.
    tables = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name != "sync_counter"]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(sa.text(f"DELETE FROM {name}"))
        conn.execute(sa.text("UPDATE sync_counter SET value = 0, horizon = 0"))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    """The app on a threaded HTTP server of its own (real sockets; the test's clock): its address."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join()
    httpd.server_close()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with app.extensions["xuncha.db"].session() as session:
        yield session


@pytest.fixture
def hasher(app: Flask):  # type: ignore[no-untyped-def]
    return app.extensions["xuncha.hasher"]


@pytest.fixture
def run_cli(app: Flask):  # type: ignore[no-untyped-def]
    """Run an ``xuncha`` command against the test app: ``run_cli("scheduler", "--once")``."""
    from server.cli import cli

    runner = app.test_cli_runner()

    def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, args=list(args), input=input)

    return run
