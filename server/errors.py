"""Domain exceptions and the one place that turns any error into problem+json (RFC 9457).

Services raise :class:`AppError` subclasses and never build responses; views let them
propagate. Werkzeug's HTTP errors (404 for unknown routes, 405, 413 ...), the schema
validation errors of flask-smorest/webargs and unique violations from the database (409)
come out in the same shape.
"""

from __future__ import annotations

import logging
from typing import Any, Iterable

from flask import Flask, Response, json
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from sync_protocol.problems import PROBLEM_MEDIA_TYPE, ProblemCode

log = logging.getLogger(__name__)


class AppError(Exception):
    """Base of every error a service may raise on purpose."""

    status = 400
    code = ProblemCode.MALFORMED_REQUEST
    title = "Bad request"

    def __init__(self, detail: str | None = None, *, errors: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra


class ValidationFailed(AppError):
    status = 422
    code = ProblemCode.VALIDATION_FAILED
    title = "The request did not validate"


class Unauthenticated(AppError):
    status = 401
    code = ProblemCode.UNAUTHENTICATED
    title = "Authentication required"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="xuncha"'})
        super().__init__(detail, **kwargs)


class InvalidCredentials(Unauthenticated):
    code = ProblemCode.INVALID_CREDENTIALS
    title = "Wrong username or password"


class Forbidden(AppError):
    status = 403
    code = ProblemCode.FORBIDDEN
    title = "Not allowed for this role"


class DeviceRevoked(Forbidden):
    code = ProblemCode.DEVICE_REVOKED
    title = "This device has been revoked"


class DeviceTaken(AppError):
    status = 409
    code = ProblemCode.DEVICE_TAKEN
    title = "This device id belongs to another user"


class OutboxNotDrained(AppError):
    status = 409
    code = ProblemCode.OUTBOX_NOT_DRAINED
    title = "The device has mutations the server has not acknowledged"


class NotFound(AppError):
    status = 404
    code = ProblemCode.NOT_FOUND
    title = "Not found"


class Conflict(AppError):
    status = 409
    code = ProblemCode.CONFLICT
    title = "Conflicts with the current state"


_HTTP_CODES = {
    400: ProblemCode.MALFORMED_REQUEST,
    401: ProblemCode.UNAUTHENTICATED,
    403: ProblemCode.FORBIDDEN,
    404: ProblemCode.NOT_FOUND,
    405: ProblemCode.METHOD_NOT_ALLOWED,
    409: ProblemCode.CONFLICT,
    413: ProblemCode.PAYLOAD_TOO_LARGE,
    415: ProblemCode.UNSUPPORTED_MEDIA_TYPE,
    422: ProblemCode.VALIDATION_FAILED,
    429: ProblemCode.RATE_LIMITED,
    503: ProblemCode.SERVICE_UNAVAILABLE,
}


def problem_response(status: int, code: ProblemCode, title: str, detail: str | None = None, *,
                     errors: list[dict[str, Any]] | None = None,
                     headers: dict[str, str] | None = None, **extra: Any) -> Response:
    body: dict[str, Any] = {"type": code.type_uri, "code": code.value, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten_messages(messages: Any, path: tuple[str, ...] = ()) -> Iterable[dict[str, Any]]:
    """marshmallow's nested message dict as a flat list of ``{"field": "a.b.0", "message": ...}``."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from flatten_messages(value, path + (str(key),))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        for message in messages:
            yield {"field": ".".join(path) or None, "message": message}
    elif isinstance(messages, list):
        for value in messages:
            yield from flatten_messages(value, path)
    else:
        yield {"field": ".".join(path) or None, "message": str(messages)}


def _validation_errors(exc: HTTPException) -> list[dict[str, Any]] | None:
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    if not messages:
        return None
    # webargs nests by location ({"json": {...}, "query": {...}}); keep the location as the prefix
    # only for the query string, where a client needs to know it was not the body.
    flat: list[dict[str, Any]] = []
    for location, fields in messages.items():
        prefix = () if location in {"json", "form"} else (location,)
        flat.extend(flatten_messages(fields, prefix))
    return flat


def handle_http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    code = _HTTP_CODES.get(status, ProblemCode.MALFORMED_REQUEST if status < 500 else ProblemCode.INTERNAL_ERROR)
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    errors = _validation_errors(exc)
    detail = None if errors else exc.description
    return problem_response(status, code, exc.name, detail, errors=errors, headers=headers)


def handle_app_error(exc: AppError) -> Response:
    return problem_response(exc.status, exc.code, exc.title, exc.detail,
                            errors=exc.errors, headers=exc.headers, **exc.extra)


def handle_unexpected(exc: Exception) -> Response:
    log.exception("unhandled error")
    return problem_response(500, ProblemCode.INTERNAL_ERROR, "Internal server error",
                            "The server failed; the request changed nothing. Retrying later is safe.")


#: SQLSTATE of a unique violation (PostgreSQL), and SQLite's extended codes for the same.
_UNIQUE = {"23505", "SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"}


def handle_integrity_error(exc: IntegrityError) -> Response:
    """A write that a constraint refused changed nothing (the session is rolled back when the
    request ends). A unique violation is a request naming an id or key another record already
    holds (e.g. a response_id used by another order): 409, like any other conflict with the
    current state. Any other constraint means a service let bad input through: a bug, 500."""
    orig = exc.orig
    state = getattr(orig, "sqlstate", None) or getattr(orig, "sqlite_errorname", None)
    if state not in _UNIQUE:
        return handle_unexpected(exc)
    return problem_response(409, ProblemCode.CONFLICT, Conflict.title,
                            "Another record already holds this id or key; nothing was changed.")


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(AppError, handle_app_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(Exception, handle_unexpected)
