from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from flask import current_app

from server import db
from server.api import Blueprint
from server.auth import accounts, login_flow, services
from server.auth.permissions import Permission
from server.auth.schemas import (ChangePasswordSchema, EnrolSchema, LoginSchema, MeSchema, ReleasedSchema,
                                 ReleaseSchema, RevokedSchema, RevokeSchema, TokenSchema)
from server.auth.security import authenticate_request, current_user, requires
from server.auth.throttle import client_address, throttle, throttled
from server.clock import app_clock

blp = Blueprint("auth", __name__, url_prefix="/api/v1",
                description="Login, logout, password change and token revocation")


@blp.post("/auth/login")
@throttled
@blp.alt_response(429, response="TOO_MANY_REQUESTS", description="Throttled; Retry-After says when to try again")
@blp.arguments(LoginSchema)
@blp.response(200, TokenSchema)
@blp.doc(security=[])
def login(body: dict[str, Any]) -> dict[str, Any]:
    """Log in; registers the device on first login and returns a bearer token bound to it.

    Failed logins are counted per account and per client address (429 with Retry-After
    beyond LOGIN_RATE_LIMIT / LOGIN_ADDRESS_RATE_LIMIT) and audited.
    """
    issued = login_flow.log_in(body["username"], body["password"], services.DeviceInfo(**body["device"]),
                               ttl=_token_ttl())
    return _token_answer(issued)


@blp.post("/auth/enrol")
@throttled
@blp.alt_response(429, response="TOO_MANY_REQUESTS", description="Throttled; Retry-After says when to try again")
@blp.arguments(EnrolSchema)
@blp.response(200, TokenSchema)
@blp.doc(security=[])
def enrol(body: dict[str, Any]) -> dict[str, Any]:
    """Set up a phone with the one-time code from its QR code: answers as a login, once."""
    from server.auth import enrolment

    session = db.session()
    issued = enrolment.exchange(session, app_clock(), body["code"], services.DeviceInfo(**body["device"]),
                                ttl=_token_ttl())
    session.commit()
    return _token_answer(issued)


@blp.post("/auth/password")
@throttled
@blp.alt_response(429, response="TOO_MANY_REQUESTS", description="Throttled; Retry-After says when to try again")
@requires(Permission.READ_OWN_ACCOUNT)
@blp.arguments(ChangePasswordSchema)
@blp.response(200, TokenSchema)
def change_password(body: dict[str, Any]) -> dict[str, Any]:
    """Change your own password, giving the current one.

    Every token of the account is revoked, this one too; the answer carries a new token for
    this device, so the app goes on without a new login. A wrong current password counts as a
    failed login of the account (and is throttled and audited like one).
    """
    principal = authenticate_request()
    user = principal.user
    address = client_address()
    throttle().check_login(address, user.username)
    try:
        issued = accounts.change_password(
            db.session(), app_clock(), current_app.extensions["xuncha.hasher"], user, principal.token.device,
            old_password=body["old_password"], new_password=body["new_password"], ttl=_token_ttl())
    except accounts.WrongPassword:
        login_flow.note_failed_login("auth.password_change_failed", address, user.username)
        raise
    db.session().commit()
    return _token_answer(issued)


def _token_ttl() -> dt.timedelta:
    return dt.timedelta(hours=current_app.config["TOKEN_TTL_HOURS"])


def _token_answer(issued: services.IssuedToken) -> dict[str, Any]:
    token = issued.record
    return {"token": issued.token, "token_id": token.id, "expires_at": token.expires_at,
            "device_id": token.device_id, "user": token.user}


@blp.post("/auth/logout")
@blp.response(204)
def logout() -> None:
    """Revoke the token this request carries."""
    services.logout(db.session(), app_clock(), authenticate_request().token)
    db.session().commit()


@blp.get("/auth/me")
@requires(Permission.READ_OWN_ACCOUNT)
@blp.response(200, MeSchema)
def me() -> dict[str, Any]:
    principal = authenticate_request()
    token = principal.token
    return {"user": principal.user, "device_id": token.device_id, "token_id": token.id,
            "expires_at": token.expires_at}


@blp.post("/auth/tokens/<int:token_id>/revoke")
@throttled
@blp.alt_response(429, response="TOO_MANY_REQUESTS", description="Throttled; Retry-After says when to try again")
@requires(Permission.REVOKE_TOKENS)
@blp.arguments(RevokeSchema)
@blp.response(200, RevokedSchema)
def revoke_token(body: dict[str, Any], token_id: int) -> dict[str, int]:
    token = services.revoke_token(db.session(), app_clock(), current_user(), token_id, body["reason"])
    db.session().commit()
    return {"revoked": 1 if token.revoked_at else 0}


@blp.post("/users/<int:user_id>/revoke-tokens")
@throttled
@blp.alt_response(429, response="TOO_MANY_REQUESTS", description="Throttled; Retry-After says when to try again")
@requires(Permission.REVOKE_TOKENS)
@blp.arguments(RevokeSchema)
@blp.response(200, RevokedSchema)
def revoke_user_tokens(body: dict[str, Any], user_id: int) -> dict[str, int]:
    """Log a user out everywhere (a password leak, a person leaving the team)."""
    count = services.revoke_user_tokens(db.session(), app_clock(), current_user(), user_id, body["reason"])
    db.session().commit()
    return {"revoked": count}


@blp.post("/devices/<uuid:device_id>/revoke")
@throttled
@blp.alt_response(429, response="TOO_MANY_REQUESTS", description="Throttled; Retry-After says when to try again")
@requires(Permission.REVOKE_TOKENS)
@blp.arguments(RevokeSchema)
@blp.response(200, RevokedSchema)
def revoke_device(body: dict[str, Any], device_id: uuid.UUID) -> dict[str, int]:
    """A lost phone: its tokens stop working and it cannot log in again."""
    count = services.revoke_device(db.session(), app_clock(), current_user(), device_id, body["reason"])
    db.session().commit()
    return {"revoked": count}


@blp.post("/devices/<uuid:device_id>/release")
@requires(Permission.READ_OWN_ACCOUNT)
@blp.arguments(ReleaseSchema)
@blp.response(200, ReleasedSchema)
def release_device(body: dict[str, Any], device_id: uuid.UUID) -> dict[str, Any]:
    """Hand a shared phone back: from the phone, by its owner, once its outbox is drained
    (``last_seq`` acknowledged, else 409 ``outbox_not_drained``). Its tokens stop working; the
    next user to log in on it owns it. Any other device: 404."""
    device = services.release_device(db.session(), app_clock(), authenticate_request().caller, device_id,
                                     last_seq=body["last_seq"])
    db.session().commit()
    return {"device_id": device.id, "released_at": device.released_at}
