"""Every setting Xuncha reads, with its default and why it exists.

Settings come from environment variables named ``XUNCHA_<NAME>`` or from the
``config`` mapping given to :func:`server.create_app` (which wins). They are
read once, when the app is built, never at import time. A value that cannot be
parsed, or a required one that is missing, stops the start with a message that
names the variable; every problem is reported at once, not one per restart.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PREFIX = "XUNCHA_"

log = logging.getLogger(__name__)


class ConfigError(Exception):
    """One or more settings are missing or invalid; the message lists them all."""


def _positive_int(raw: str | int) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("must be a positive integer")
    return value


def _bool(raw: str | bool) -> bool:
    if isinstance(raw, bool):
        return raw
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError("must be one of true/false/1/0/yes/no/on/off")


def _timezone(raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {raw!r}") from exc
    return raw


def _environment(raw: str) -> str:
    if raw not in {"development", "production"}:
        raise ValueError("must be 'development' or 'production'")
    return raw


def database_url(raw: str) -> str:
    """Accept the URLs people paste, and pin PostgreSQL to the psycopg 3 driver."""
    raw = raw.strip()
    for bare in ("postgres://", "postgresql://"):
        if raw.startswith(bare):
            return "postgresql+psycopg://" + raw[len(bare):]
    if not raw.startswith(("sqlite:", "postgresql+psycopg:")):
        raise ValueError("must be a sqlite:/// or postgresql:// URL")
    return raw


def _rate_limit(raw: str) -> str:
    from limits import parse_many

    parse_many(raw)  # raises ValueError on a malformed limit string
    return raw


@dataclass(frozen=True)
class Setting:
    name: str
    parse: Callable[[Any], Any]
    #: A value, or a callable taking the settings parsed so far (for paths under the instance folder).
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("ENV", _environment, "development",
            "development or production. Production refuses to start without an explicit SECRET_KEY."),
    Setting("INSTANCE_DIR", str, lambda s: os.path.join(os.getcwd(), "instance"),
            "Folder for the default SQLite database, media and the generated development secret."),
    Setting("DATABASE_URL", database_url,
            lambda s: "sqlite:///" + os.path.join(s["INSTANCE_DIR"], "xuncha.sqlite3"),
            "SQLAlchemy URL: sqlite:///path or postgresql://user@host/db (psycopg 3 is used)."),
    Setting("DATABASE_POOL_SIZE", _positive_int, 5,
            "Connections each process keeps open to PostgreSQL."),
    Setting("MEDIA_ROOT", str, lambda s: os.path.join(s["INSTANCE_DIR"], "media"),
            "Folder of the filesystem media backend (original photos and derivatives)."),
    Setting("SECRET_KEY", str, None,
            "Secret for signing; at least 32 characters. Generated and kept in INSTANCE_DIR in development."),
    Setting("TIMEZONE", _timezone, "Asia/Shanghai",
            "Campaign time zone: deadlines, working days and documents are in it; storage is UTC."),
    Setting("MAX_BODY_BYTES", _positive_int, 8 * 1024 * 1024,
            "Largest request body accepted by the JSON API (413 above). Photos use resumable uploads."),
    Setting("PAGE_SIZE_DEFAULT", _positive_int, 100, "Items per page when a list request names no limit."),
    Setting("PAGE_SIZE_MAX", _positive_int, 1000, "Largest page a list request may ask for."),
    Setting("TOKEN_TTL_HOURS", _positive_int, 24 * 30,
            "Lifetime of a login token. Long, because inspectors work offline for days."),
    Setting("LOGIN_RATE_LIMIT", _rate_limit, "10 per minute",
            "Failed logins allowed per client address and username (429 above)."),
    Setting("RATELIMIT_STORAGE_URI", str, "memory://",
            "Where rate-limit counters live; use redis://host:6379 when several workers serve."),
    Setting("ARGON2_TIME_COST", _positive_int, 3, "argon2id iterations for password hashes."),
    Setting("ARGON2_MEMORY_KIB", _positive_int, 64 * 1024, "argon2id memory cost in KiB."),
    Setting("ARGON2_PARALLELISM", _positive_int, 2, "argon2id lanes."),
    Setting("MEDIA_MAX_BYTES", _positive_int, 30 * 1024 * 1024, "Largest photo accepted, in bytes."),
    Setting("MEDIA_MAX_PIXELS", _positive_int, 50_000_000,
            "Largest photo accepted, in pixels (refused from the header, before decoding)."),
    Setting("UPLOAD_EXPIRY_HOURS", _positive_int, 72,
            "How long an unfinished resumable (tus) photo upload is kept before it is deleted."),
    Setting("SYNC_MAX_BATCH", _positive_int, 1000,
            "Most mutations one sync push may carry (413 above); clients split larger outboxes."),
    Setting("SYNC_PULL_LIMIT_DEFAULT", _positive_int, 1000, "Changes per pull page when the client names no limit."),
    Setting("SYNC_PULL_LIMIT_MAX", _positive_int, 5000, "Largest pull page a client may ask for."),
    Setting("SYNC_TOMBSTONE_DAYS", _positive_int, 90,
            "How long deletions are kept for devices to pull; a device silent for longer starts over."),
    Setting("LOG_LEVEL", str.upper, "INFO", "Python logging level of the server and the scheduler."),
    Setting("TRUSTED_PROXIES", int, 0,
            "How many reverse proxies set X-Forwarded-For in front of the app (0: use the peer address)."),
)

_BY_NAME = {s.name: s for s in SETTINGS}

#: Variables with the prefix that are not settings of the app but are read by
#: tooling (the test suite), so they must not trigger the unknown-setting warning.
_TOOLING = {"TEST_DATABASE_URL"}


def load_settings(config: Mapping[str, Any] | None = None,
                  environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    environ = os.environ if environ is None else environ
    config = dict(config or {})
    raw: dict[str, Any] = {}
    for key, value in environ.items():
        if not key.startswith(PREFIX):
            continue
        name = key[len(PREFIX):]
        if name in _BY_NAME:
            raw[name] = value
        elif name not in _TOOLING:
            log.warning("ignoring unknown setting %s", key)
    unknown = sorted(k for k in config if k not in _BY_NAME and not k.isupper())
    if unknown:
        raise ConfigError(f"unknown settings in config: {', '.join(unknown)}")
    for key in list(config):
        if key in _BY_NAME:
            raw[key] = config.pop(key)

    settings: dict[str, Any] = {}
    problems: list[str] = []
    for setting in SETTINGS:
        if setting.name in raw:
            try:
                settings[setting.name] = setting.parse(raw[setting.name])
            except (TypeError, ValueError) as exc:
                problems.append(f"{PREFIX}{setting.name}={raw[setting.name]!r}: {exc}")
                settings[setting.name] = None
        else:
            default = setting.default
            settings[setting.name] = default(settings) if callable(default) else default
    if problems:
        raise ConfigError("invalid settings:\n  " + "\n  ".join(problems))

    _check_argon2(settings)
    _settle_secret_key(settings)
    settings.update(config)  # upper-case Flask options passed through untouched
    return settings


def _check_argon2(settings: dict[str, Any]) -> None:
    # argon2 refuses at the first login, not at start, unless checked here.
    floor = 8 * settings["ARGON2_PARALLELISM"]
    if settings["ARGON2_MEMORY_KIB"] < floor:
        raise ConfigError(f"{PREFIX}ARGON2_MEMORY_KIB must be at least 8 × {PREFIX}ARGON2_PARALLELISM = {floor}")


def _settle_secret_key(settings: dict[str, Any]) -> None:
    key = settings["SECRET_KEY"]
    if key is None:
        if settings["ENV"] == "production":
            raise ConfigError(f"{PREFIX}SECRET_KEY is required when {PREFIX}ENV=production")
        key = _development_secret(Path(settings["INSTANCE_DIR"]))
    if len(key) < 32:
        raise ConfigError(f"{PREFIX}SECRET_KEY must be at least 32 characters long")
    settings["SECRET_KEY"] = key


def _development_secret(instance: Path) -> str:
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


def describe() -> str:
    """The settings table, as printed by ``xuncha settings`` and kept in docs/configuration.md."""
    lines = []
    for s in SETTINGS:
        default = "(computed)" if callable(s.default) else repr(s.default)
        lines.append(f"{PREFIX}{s.name}  default {default}\n    {s.help}")
    return "\n".join(lines)
