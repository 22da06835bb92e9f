from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from server.settings import ConfigError, database_url, describe, load_settings


def test_defaults_put_database_and_media_under_instance(tmp_path):
    settings = load_settings({"INSTANCE_DIR": str(tmp_path)}, environ={})
    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path}/xuncha.sqlite3"
    assert settings["MEDIA_ROOT"] == f"{tmp_path}/media"
    assert settings["TIMEZONE"] == "Asia/Shanghai"
    # The development secret is generated once and then kept.
    assert load_settings({"INSTANCE_DIR": str(tmp_path)}, environ={})["SECRET_KEY"] == settings["SECRET_KEY"]


def test_environment_variables_are_read_with_the_prefix(tmp_path):
    settings = load_settings(environ={"XUNCHA_INSTANCE_DIR": str(tmp_path), "XUNCHA_MAX_BODY_BYTES": "2048",
                                      "XUNCHA_TIMEZONE": "Asia/Urumqi"})
    assert settings["MAX_BODY_BYTES"] == 2048 and settings["TIMEZONE"] == "Asia/Urumqi"


def test_every_invalid_setting_is_reported_at_once(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"XUNCHA_INSTANCE_DIR": str(tmp_path), "XUNCHA_MAX_BODY_BYTES": "-1",
                               "XUNCHA_TIMEZONE": "Mars/Olympus", "XUNCHA_DATABASE_URL": "mysql://x",
                               "XUNCHA_LOGIN_RATE_LIMIT": "often"})
    message = str(caught.value)
    for name in ("MAX_BODY_BYTES", "TIMEZONE", "DATABASE_URL", "LOGIN_RATE_LIMIT"):
        assert f"XUNCHA_{name}" in message


def test_production_requires_a_real_secret(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY is required"):
        load_settings(environ={"XUNCHA_ENV": "production", "XUNCHA_INSTANCE_DIR": str(tmp_path)})
    with pytest.raises(ConfigError, match="at least 32"):
        load_settings(environ={"XUNCHA_ENV": "production", "XUNCHA_SECRET_KEY": "short"})
    assert not (tmp_path / "secret_key").exists()


def test_unknown_settings_in_code_are_refused():
    with pytest.raises(ConfigError, match="unknown settings"):
        load_settings({"databse_url": "sqlite://"}, environ={})


@pytest.mark.parametrize("given,expected", [
    ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
    ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
])
def test_database_urls_are_normalised_to_psycopg(given, expected):
    assert database_url(given) == expected


def test_every_setting_is_documented():
    text = describe()
    from server.settings import SETTINGS

    for setting in SETTINGS:
        assert f"XUNCHA_{setting.name}" in text and setting.help
    documented = (Path(__file__).parents[1] / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing = [s.name for s in SETTINGS if f"XUNCHA_{s.name}" not in documented]
    assert not missing, f"docs/configuration.md lacks {missing}"


def test_the_command_line_fails_with_a_clear_message(tmp_path):
    xuncha = [sys.executable, "-m", "server.cli", "db", "current"]
    env = {"XUNCHA_TIMEZONE": "Nowhere/Land", "XUNCHA_INSTANCE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(xuncha, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "XUNCHA_TIMEZONE='Nowhere/Land': unknown time zone" in result.stderr
    assert "Traceback" not in result.stderr


def test_argon2_memory_must_fit_the_lanes(tmp_path):
    with pytest.raises(ConfigError, match="ARGON2_MEMORY_KIB must be at least 8 × XUNCHA_ARGON2_PARALLELISM = 16"):
        load_settings({"INSTANCE_DIR": str(tmp_path)},
                      environ={"XUNCHA_ARGON2_MEMORY_KIB": "8", "XUNCHA_ARGON2_PARALLELISM": "2"})
