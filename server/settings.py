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


#: What production's refusals (debug mode, demo data) tell the operator to do instead.
DEMO_HINT = ("To try Xuncha with its demo data and the debugger, run a development instance apart from "
             "production: XUNCHA_ENV=development XUNCHA_INSTANCE_DIR=/tmp/xuncha-demo xuncha dev")


def _positive_int(raw: str | int) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("must be a positive integer")
    return value


def _json_depth(raw: str | int) -> int:
    value = _positive_int(raw)
    if value > 1000:  # orjson stops at 1024 levels on its own
        raise ValueError("must be at most 1000")
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


def _webhook_url(raw: str) -> str:
    raw = raw.strip()
    if raw and not raw.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL, or empty")
    return raw


def _office_hours(raw: str) -> str:
    from server.worktime.office_hours import OfficeHours

    return str(OfficeHours.parse(raw))  # normalised, so "9:00-12:00" and "09:00-12:00" are one value


def _media_storage(raw: str) -> str:
    if raw not in {"filesystem", "s3"}:
        raise ValueError("must be 'filesystem' or 's3'")
    return raw


def _encodings(raw: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    from server.compression import RESPONSE_ENCODINGS

    names = [n.strip().lower() for n in (raw.split(",") if isinstance(raw, str) else raw) if n.strip()]
    unknown = sorted(set(names) - set(RESPONSE_ENCODINGS))
    if unknown:
        raise ValueError(f"unknown encoding {', '.join(unknown)}; choose from {', '.join(RESPONSE_ENCODINGS)}")
    return tuple(dict.fromkeys(names))


def _rate_limit(raw: str) -> str:
    from limits import parse_many

    parse_many(raw)  # raises ValueError on a malformed limit string
    return raw


def _origins(raw: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    origins = [o.strip().rstrip("/") for o in (raw.split(",") if isinstance(raw, str) else raw) if o.strip()]
    for origin in origins:
        if origin != "*" and not origin.startswith(("http://", "https://")):
            raise ValueError(f"{origin!r} is not an origin such as https://xuncha.example.cn (or *)")
    return tuple(origins)


def _ratelimit_storage(raw: str) -> str:
    from limits.storage import SCHEMES

    raw = raw.strip()
    if raw != "database" and raw.partition("://")[0] not in SCHEMES:
        raise ValueError("must be database, memory://, or a redis:// URL")
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
            "development or production. Production refuses to start without a strong SECRET_KEY or in "
            "debug mode, refuses the demo data and the demo accounts' published passwords."),
    Setting("INSTANCE_DIR", str, lambda s: os.path.join(os.getcwd(), "instance"),
            "Folder for the default SQLite database, media and the generated development secret."),
    Setting("DATABASE_URL", database_url,
            lambda s: "sqlite:///" + os.path.join(s["INSTANCE_DIR"], "xuncha.sqlite3"),
            "SQLAlchemy URL: sqlite:///path or postgresql://user@host/db (psycopg 3 is used)."),
    Setting("DATABASE_POOL_SIZE", _positive_int, 5,
            "Connections each process keeps open to PostgreSQL."),
    Setting("DATABASE_BUSY_TIMEOUT_MS", _positive_int, 30_000,
            "SQLite: how long a write waits for another connection's write to finish before it "
            "fails with \"database is locked\" (which a sync push then retries)."),
    Setting("MEDIA_ROOT", str, lambda s: os.path.join(s["INSTANCE_DIR"], "media"),
            "Folder of the filesystem media backend (original photos and derivatives)."),
    Setting("MEDIA_STORAGE", _media_storage, "filesystem",
            "Photo storage backend: filesystem (under MEDIA_ROOT) or s3 (MEDIA_S3_*; needs pip install xuncha[s3])."),
    Setting("MEDIA_S3_BUCKET", str, "", "Bucket of the s3 media backend; required with MEDIA_STORAGE=s3."),
    Setting("MEDIA_S3_ENDPOINT_URL", str, "",
            "Endpoint of an S3-compatible service (MinIO, Ceph, OSS...); empty for AWS S3."),
    Setting("MEDIA_S3_REGION", str, "", "Region of the bucket; empty to take it from the AWS configuration."),
    Setting("MEDIA_S3_PREFIX", str, "", "Folder in the bucket under which photos are kept, e.g. xuncha/media."),
    Setting("SECRET_KEY", str, None,
            "Secret for signing; at least 32 characters, and random in production (a long pattern such as one "
            "repeated character is refused). Generated and kept in INSTANCE_DIR in development."),
    Setting("TIMEZONE", _timezone, "Asia/Shanghai",
            "Campaign time zone: deadlines, working days and documents are in it; storage is UTC."),
    Setting("OFFICE_HOURS", _office_hours, "09:00-12:00,13:30-17:30",
            "Office periods of a working day, in the campaign time zone; working-hour limits count only these."),
    Setting("MAX_BODY_BYTES", _positive_int, 8 * 1024 * 1024,
            "Largest request body accepted by the JSON API (413 above). Photos use resumable uploads."),
    Setting("MAX_JSON_DEPTH", _json_depth, 32,
            "Deepest nesting of arrays and objects a JSON body may have (400 above); at most 1000."),
    Setting("PAGE_SIZE_DEFAULT", _positive_int, 100, "Items per page when a list request names no limit."),
    Setting("PAGE_SIZE_MAX", _positive_int, 1000, "Largest page a list request may ask for."),
    Setting("QUEUE_EXPORT_MAX_ROWS", _positive_int, 50000,
            "Most orders one CSV or XLSX export of the queue may hold (422 above: narrow the filter)."),
    Setting("BULK_MAX_ITEMS", _positive_int, 200, "Most orders one bulk verify, reject or assign may name."),
    Setting("TOKEN_TTL_HOURS", _positive_int, 24 * 30,
            "Lifetime of a login token. Long, because inspectors work offline for days."),
    Setting("ENROLMENT_CODE_TTL_MINUTES", _positive_int, 15,
            "Lifetime of a one-time code (QR) that sets up a phone instead of a typed password."),
    Setting("LOGIN_RATE_LIMIT", _rate_limit, "20 per 15 minutes",
            "Failed logins allowed per account, from any address (429 above); a wrong current password "
            "on a password change counts too. A successful login clears the count."),
    Setting("LOGIN_ADDRESS_RATE_LIMIT", _rate_limit, "100 per 15 minutes",
            "Failed logins allowed per client address, over every account (429 above)."),
    Setting("AUTH_RATE_LIMIT", _rate_limit, "300 per minute",
            "Requests per client address to the login, password and token endpoints, succeeded or not."),
    Setting("RATELIMIT_STORAGE_URI", _ratelimit_storage, "database",
            "Where throttle counters live: database (the app's own, shared by every worker), "
            "redis://host:6379/0 (needs pip install xuncha[production]), or memory:// (one process only)."),
    Setting("ARGON2_TIME_COST", _positive_int, 3, "argon2id iterations for password hashes."),
    Setting("ARGON2_MEMORY_KIB", _positive_int, 64 * 1024, "argon2id memory cost in KiB."),
    Setting("ARGON2_PARALLELISM", _positive_int, 2, "argon2id lanes."),
    Setting("MEDIA_MAX_BYTES", _positive_int, 30 * 1024 * 1024, "Largest photo accepted, in bytes."),
    Setting("MEDIA_MAX_PIXELS", _positive_int, 50_000_000,
            "Largest photo accepted, in pixels (refused from the header, before decoding)."),
    Setting("PHOTO_MAX_DISTANCE_M", _positive_int, 200,
            "A photo whose GPS lies farther than this many metres from its finding is flagged for supervisors."),
    Setting("PHOTO_REUSE_MAX_BITS", _positive_int, 12,
            "Two photos whose 64-bit perceptual hashes differ in at most this many bits are flagged as reused."),
    Setting("UPLOAD_EXPIRY_HOURS", _positive_int, 72,
            "How long an unfinished resumable (tus) photo upload is kept before it is deleted."),
    Setting("UPLOAD_FINISHED_KEEP_HOURS", _positive_int, 24,
            "How long a finished photo upload still answers HEAD (its final offset), for a phone that lost the reply."),
    Setting("SYNC_MAX_BATCH", _positive_int, 1000,
            "Most mutations one sync push may carry (413 above); clients split larger outboxes."),
    Setting("SYNC_LOCK_TIMEOUT_MS", _positive_int, 3000,
            "PostgreSQL: how long a push waits for a record another transaction holds before its "
            "attempt is given up and run again."),
    Setting("SYNC_RETRY_ATTEMPTS", _positive_int, 4,
            "Attempts of a push that met another transaction (deadlock, serialization failure, lock "
            "timeout, busy SQLite) before the device is answered 503 sync_busy with Retry-After."),
    Setting("SYNC_PULL_LIMIT_DEFAULT", _positive_int, 1000, "Changes per pull page when the client names no limit."),
    Setting("SYNC_PULL_LIMIT_MAX", _positive_int, 5000, "Largest pull page a client may ask for."),
    Setting("SYNC_TOMBSTONE_DAYS", _positive_int, 90,
            "How long deletions are kept for devices to pull; a device silent for longer starts over."),
    Setting("DEVICE_STALE_HOURS", _positive_int, 24,
            "A phone whose oldest unsynced record is older than this is reported to its supervisors."),
    Setting("COMPRESS_ENCODINGS", _encodings, ("zstd", "br", "gzip"),
            "Encodings offered for JSON and HTML responses to clients that accept them, preferred first "
            "(zstd, br, gzip); empty: never compress."),
    Setting("COMPRESS_MIN_BYTES", _positive_int, 1024, "Responses smaller than this are sent uncompressed."),
    Setting("LOG_LEVEL", str.upper, "INFO", "Python logging level of the server and the scheduler."),
    Setting("TRUSTED_PROXIES", int, 0,
            "How many reverse proxies set X-Forwarded-For in front of the app (0: use the peer address)."),
    Setting("REFERRER_POLICY", str, "no-referrer",
            "Referrer-Policy sent with every answer: API addresses name records, so none leaks by default."),
    Setting("CONTENT_SECURITY_POLICY", str,
            "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'",
            "Content-Security-Policy of every HTML answer (circulars, bulletins): no script, form or frame."),
    Setting("CONSOLE_CONTENT_SECURITY_POLICY", str,
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
            "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
            "Content-Security-Policy of the web console's pages: the app's own scripts, styles, photos and "
            "uploads only; no inline script, no other site."),
    Setting("CONSOLE_SESSION_HOURS", _positive_int, 8,
            "Lifetime of a web console login: its cookie and the token behind it expire together."),
    Setting("CONSOLE_UPLOAD_CHUNK_BYTES", _positive_int, 512 * 1024,
            "Size of each PATCH of a photo uploaded from the console: after a dropped connection the "
            "browser resumes from the last chunk the server took."),
    Setting("CONSOLE_COOKIE_SECURE", _bool, False,
            "Send the console's session cookie over HTTPS only (Secure). Turn on wherever the console is "
            "served over HTTPS, as it must be outside a test bench."),
    Setting("AUTHENTICATED_CACHE_CONTROL", str, "private, no-cache",
            "Cache-Control of answers to a request with a bearer token, unless the view set its own: "
            "never kept by a shared cache."),
    Setting("CORS_ORIGINS", _origins, (),
            "Browser origins allowed to call the API from another site, comma-separated "
            "(https://xuncha.example.cn), or *; empty: CORS is off."),
    Setting("CORS_MAX_AGE", _positive_int, 600, "Seconds a browser may keep a CORS preflight answer."),
    Setting("NOTIFY_MAX_ATTEMPTS", _positive_int, 8,
            "Attempts to send one notice by email or webhook before it is dead-lettered for an admin."),
    Setting("NOTIFY_RETRY_BASE_SECONDS", _positive_int, 60,
            "Wait before the first retry of a failed notice; doubled at each further failure."),
    Setting("NOTIFY_BATCH_SIZE", _positive_int, 500,
            "Notices the delivery job takes per round; it keeps taking rounds until none is due."),
    Setting("NOTIFY_CLAIM_SECONDS", _positive_int, 600,
            "How long a delivery job may hold notices while sending; a crashed job's notices are retried after it."),
    Setting("SMTP_HOST", str, "", "Mail server for notices by email; empty turns email off."),
    Setting("SMTP_PORT", _positive_int, 587, "Mail server port."),
    Setting("SMTP_USERNAME", str, "", "Mail server login; empty sends without logging in."),
    Setting("SMTP_PASSWORD", str, "", "Mail server password (or the provider's authorisation code)."),
    Setting("SMTP_FROM", str, "xuncha@localhost", "Sender address of notice emails, e.g. 巡查 <xuncha@example.cn>."),
    Setting("SMTP_STARTTLS", _bool, True, "Upgrade the mail connection with STARTTLS before logging in."),
    Setting("SMTP_TIMEOUT", _positive_int, 30, "Seconds to wait for the mail server before the attempt counts as failed."),
    Setting("WEBHOOK_URL", _webhook_url, "",
            "Where notices are POSTed as signed JSON (an IM bot bridge, a city platform); empty turns it off."),
    Setting("WEBHOOK_SECRET", str, "", "Key of the webhook's HMAC-SHA256 signature; required with WEBHOOK_URL."),
    Setting("WEBHOOK_TIMEOUT", _positive_int, 10, "Seconds to wait for the webhook before the attempt counts as failed."),
    Setting("REPORT_EXAMPLES_PER_CATEGORY", _positive_int, 3,
            "Named examples (单位 + 问题) a circular cites under each problem category."),
    Setting("CIRCULAR_MAX_CHARS", _positive_int, 100_000,
            "Longest circular text a supervisor may save, in characters (422 above)."),
    Setting("BULLETIN_MAX_DAYS", _positive_int, 366, "Longest period one bulletin (快报) may cover."),
    Setting("BULLETIN_CHART_UNITS", _positive_int, 15,
            "Units shown in the bulletin's overdue-by-unit chart (the most overdue first)."),
    Setting("CHART_FONT", str, "",
            "Font file with Chinese glyphs for charts; empty searches the system (fonts-noto-cjk, fonts-wqy-microhei)."),
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
    _check_media(settings)
    _check_webhook(settings)
    _settle_secret_key(settings)
    settings.update(config)  # upper-case Flask options passed through untouched
    return settings


def _check_argon2(settings: dict[str, Any]) -> None:
    # argon2 refuses at the first login, not at start, unless checked here.
    floor = 8 * settings["ARGON2_PARALLELISM"]
    if settings["ARGON2_MEMORY_KIB"] < floor:
        raise ConfigError(f"{PREFIX}ARGON2_MEMORY_KIB must be at least 8 × {PREFIX}ARGON2_PARALLELISM = {floor}")


def _check_webhook(settings: dict[str, Any]) -> None:
    # An unsigned webhook would let anyone who guesses the receiver's address forge notices.
    if settings["WEBHOOK_URL"] and len(settings["WEBHOOK_SECRET"]) < 16:
        raise ConfigError(f"{PREFIX}WEBHOOK_SECRET of at least 16 characters is required with {PREFIX}WEBHOOK_URL")


def _check_media(settings: dict[str, Any]) -> None:
    if settings["MEDIA_STORAGE"] == "s3" and not settings["MEDIA_S3_BUCKET"]:
        raise ConfigError(f"{PREFIX}MEDIA_S3_BUCKET is required when {PREFIX}MEDIA_STORAGE=s3")


def _settle_secret_key(settings: dict[str, Any]) -> None:
    key = settings["SECRET_KEY"]
    if key is None:
        if settings["ENV"] == "production":
            raise ConfigError(f"{PREFIX}SECRET_KEY is required when {PREFIX}ENV=production")
        key = _development_secret(Path(settings["INSTANCE_DIR"]))
    if len(key) < 32:
        raise ConfigError(f"{PREFIX}SECRET_KEY must be at least 32 characters long")
    if settings["ENV"] == "production":
        _check_secret_strength(key)
    settings["SECRET_KEY"] = key


#: About 66 bits by zxcvbn's count: far beyond a guess, yet met by any generated key (~10^32).
SECRET_KEY_MIN_GUESSES_LOG10 = 20


def _check_secret_strength(key: str) -> None:
    """Refuse a key that is long but made of a pattern (one repeated character, words, a
    keyboard walk): its length says nothing about how hard it is to guess."""
    from server.auth.passwords import estimate

    result = estimate(key)
    if result["guesses_log10"] < SECRET_KEY_MIN_GUESSES_LOG10:
        why = result["feedback"]["warning"] or "it is made of guessable patterns"
        raise ConfigError(f"{PREFIX}SECRET_KEY is long but easy to guess ({why.rstrip('.')}); make a random one with "
                          "python -c 'import secrets; print(secrets.token_urlsafe(48))'")


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
        if callable(s.default):
            default = "(computed)"
        elif isinstance(s.default, tuple):  # written as the variable takes it
            default = repr(",".join(s.default))
        else:
            default = repr(s.default)
        lines.append(f"{PREFIX}{s.name}  default {default}\n    {s.help}")
    return "\n".join(lines)
