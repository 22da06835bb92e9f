"""A login over HTTP, for every door that takes a password (the API and the web console):
the throttle, the refusal of published demo passwords in production, the audit of failures.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app

from server import db
from server.auth import accounts, services
from server.auth.throttle import client_address, throttle
from server.clock import app_clock
from server.demo.data import is_published_password
from server.errors import Forbidden, InvalidCredentials


def log_in(username: str, password: str, device: services.DeviceInfo, *, ttl: dt.timedelta) -> services.IssuedToken:
    """Check the password and issue a token for ``device``, committed.

    Raises the throttle's 429, :class:`InvalidCredentials`, or :class:`Forbidden` for a demo
    account's published password in production; each failure is counted and audited.
    """
    address = client_address()
    throttle().check_login(address, username)
    if current_app.config["ENV"] == "production" and is_published_password(username, password):
        note_failed_login("auth.login_demo_password", address, username)
        raise Forbidden(f"The password of the demo account {username!r} is published; it is refused in "
                        "production. An admin sets a new one: xuncha reset-password USERNAME.")
    session = db.session()
    try:
        issued = services.login(session, app_clock(), current_app.extensions["xuncha.hasher"],
                                username=username, password=password, device=device, ttl=ttl)
    except InvalidCredentials:
        note_failed_login("auth.login_failed", address, username)
        raise
    session.commit()
    throttle().login_succeeded(username)
    return issued


def note_failed_login(action: str, address: str, username: str) -> None:
    """Count a failed login and audit it, and the lockout it caused if any, in their own transaction."""
    session = db.session()
    session.rollback()
    lockouts = throttle().login_failed(address, username)
    user_id = accounts.account_id(session, username)
    # End the read before writing: on SQLite a transaction that read cannot start writing once
    # another connection has committed (a stale snapshot), and failed logins come in bursts.
    session.commit()
    accounts.record_failed_login(session, app_clock(), action=action, user_id=user_id, username=username,
                                 address=address, lockouts=lockouts)
    session.commit()
