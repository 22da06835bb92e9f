"""Production refuses unsafe setups: the debugger, the demo data and its published passwords,
and a secret key that is long but guessable; each refusal says how to run a demo instead."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
import sqlalchemy as sa

from server import create_app
from server.auth.models import Role, User
from server.settings import ConfigError, load_settings
from tests import factories
from tests.test_auth import login

STRONG_SECRET = "q8Vd2LrX0s9pKf3N7bYtZc6WmH1jAeRu4GxTiOvS5lQ"


@pytest.fixture
def production_config(app_config):  # type: ignore[no-untyped-def]
    return {**app_config, "ENV": "production", "SECRET_KEY": STRONG_SECRET}


@pytest.mark.parametrize("key", ["a" * 64, "production-test-" + "s" * 40, "passwordpasswordpasswordpassword1",
                                 "qwertyuiopasdfghjklzxcvbnm1234567890"])
def test_a_long_but_guessable_secret_key_is_refused_in_production(key, tmp_path):
    with pytest.raises(ConfigError, match="long but easy to guess") as caught:
        load_settings({"ENV": "production", "SECRET_KEY": key, "INSTANCE_DIR": str(tmp_path)}, environ={})
    assert "secrets.token_urlsafe" in str(caught.value)


def test_a_random_secret_key_is_accepted_in_production(tmp_path):
    for key in (STRONG_SECRET, secrets.token_urlsafe(48), secrets.token_hex(32)):
        settings = load_settings({"ENV": "production", "SECRET_KEY": key, "INSTANCE_DIR": str(tmp_path)}, environ={})
        assert settings["SECRET_KEY"] == key


def test_debug_mode_is_refused_in_production(production_config, monkeypatch):
    with pytest.raises(ConfigError, match="debug mode .* refused when XUNCHA_ENV=production") as caught:
        create_app({**production_config, "DEBUG": True})
    assert "XUNCHA_ENV=development" in str(caught.value) and "xuncha dev" in str(caught.value)
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(ConfigError, match="debug mode"):
        create_app(production_config)


def _xuncha(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("XUNCHA_", "FLASK_"))}
    return subprocess.run([sys.executable, "-m", "server.cli", *args], env={**base, **env}, capture_output=True,
                          text=True, timeout=120)


def test_the_command_line_refuses_the_debugger_in_production(database_url_for_tests, tmp_path):
    env = {"XUNCHA_ENV": "production", "XUNCHA_SECRET_KEY": STRONG_SECRET,
           "XUNCHA_DATABASE_URL": database_url_for_tests, "XUNCHA_INSTANCE_DIR": str(tmp_path)}
    debug = _xuncha("--debug", "routes", env=env)
    assert debug.returncode == 2 and "debug mode" in debug.stderr and "xuncha dev" in debug.stderr
    debugger = _xuncha("run", "--debugger", "--port", "1", env=env)
    assert debugger.returncode == 2 and "--debugger is refused" in debugger.stderr
    weak = _xuncha("routes", env={**env, "XUNCHA_SECRET_KEY": "x" * 48})
    assert weak.returncode == 2 and "easy to guess" in weak.stderr


@pytest.mark.parametrize("command", ["demo", "dev"])
def test_demo_data_is_refused_in_production(command, production_config, clock):
    from server.cli import cli

    app = create_app(production_config, clock=clock)
    result = app.test_cli_runner().invoke(cli, args=[command])
    assert result.exit_code != 0
    assert "refused when XUNCHA_ENV=production" in result.output and "XUNCHA_ENV=development" in result.output
    with app.extensions["xuncha.db"].session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
    app.extensions["xuncha.db"].dispose()


def test_a_demo_accounts_published_password_is_refused_in_production(production_config, clock, session, hasher):
    factories.user(session, hasher, Role.ADMIN, username="admin", password="xuncha-admin-1")
    factories.user(session, hasher, Role.ADMIN, username="root", password="xuncha-admin-1")
    session.commit()
    app = create_app(production_config, clock=clock)
    client = app.test_client()
    refused = login(client, "admin", "xuncha-admin-1")
    assert refused.status_code == 403 and "reset-password" in refused.get_json()["detail"]
    # The same password on an account the demo does not make is only a password.
    assert login(client, "root", "xuncha-admin-1").status_code == 200
    app.extensions["xuncha.db"].dispose()


def test_development_still_loads_the_demo_and_logs_in_with_its_passwords(client, run_cli):
    assert run_cli("demo").exit_code == 0
    assert login(client, "admin", "xuncha-admin-1").status_code == 200
