"""The console's login session: a login token kept in a signed, HttpOnly cookie.

The cookie carries the same kind of token a phone gets from ``POST /api/v1/auth/login``, issued
to a device registered as the browser, with the console's shorter lifetime
(CONSOLE_SESSION_HOURS). So every rule of the API holds for the browser too: the token is read
afresh on each request (a revocation holds at once), logout revokes it server-side (a copied
cookie is worth nothing after it), and the photo, tus and report endpoints accept it.

A cookie is sent by the browser on its own, so a request authenticated by it must prove it
comes from the console's own pages: every unsafe request (any method but GET, HEAD, OPTIONS)
that carries the console cookie, and every form of the console, names the CSRF token of the
session (form field ``csrf_token`` or header ``X-CSRFToken``), a value signed with SECRET_KEY
(Flask-WTF's). A bearer-token request carries no cookie to abuse and is not asked for one.
"""

from __future__ import annotations

import datetime as dt

from flask import Flask, current_app, request, session
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from wtforms import ValidationError

from server import db
from server.auth import services
from server.auth.models import AuthToken
from server.clock import app_clock
from server.errors import AppError

#: The key of the login token in the console's session cookie.
TOKEN_KEY = "token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: The console's blueprint: its forms are CSRF-checked even before a login (the login form).
BLUEPRINT = "web"


def init_app(app: Flask) -> None:
    app.config.update(
        SESSION_COOKIE_NAME="xuncha_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=app.config["CONSOLE_COOKIE_SECURE"],
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=app.config["CONSOLE_SESSION_HOURS"]),
        # The token is bound to the session, not to a form: pages stay usable until logout.
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=app.config["CONSOLE_COOKIE_SECURE"],
    )
    app.before_request(check_csrf)
    app.jinja_env.globals["csrf_token"] = generate_csrf


def cookie_token() -> str | None:
    """The login token of the request's console session, if any."""
    token = session.get(TOKEN_KEY)
    return token if isinstance(token, str) and token else None


def check_csrf() -> None:
    if request.method in SAFE_METHODS or "Authorization" in request.headers:
        return
    if request.blueprint != BLUEPRINT and cookie_token() is None:
        return
    try:
        validate_csrf(request.form.get("csrf_token") or request.headers.get("X-CSRFToken"))
    except ValidationError as exc:
        raise CSRFError(exc.args[0]) from None


def start(issued: services.IssuedToken) -> None:
    """Keep a new login's token in the session cookie, which expires with it."""
    session.clear()  # a fresh session: nothing from before the login (its CSRF token) carries over
    session.permanent = True
    session[TOKEN_KEY] = issued.token


def end() -> None:
    """Revoke the session's token, so the cookie opens nothing any more, and forget it."""
    token = cookie_token()
    session.clear()
    if token is None:
        return
    dbs = db.session()
    try:
        caller = services.resolve_token(dbs, app_clock(), token)
    except AppError:  # expired or revoked already: nothing left to revoke
        dbs.rollback()
        return
    services.logout(dbs, app_clock(), dbs.get(AuthToken, caller.token_id))
    dbs.commit()


def session_ttl() -> dt.timedelta:
    return dt.timedelta(hours=current_app.config["CONSOLE_SESSION_HOURS"])
