from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from flask import current_app, request

from server import db
from server.api import Blueprint
from server.auth import services
from server.auth.permissions import Permission
from server.auth.schemas import LoginSchema, MeSchema, RevokedSchema, RevokeSchema, TokenSchema
from server.auth.security import authenticate_request, current_user, requires
from server.clock import app_clock
from server.errors import AppError, InvalidCredentials
from sync_protocol.problems import ProblemCode

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Login, logout and token revocation")


class RateLimited(AppError):
    status = 429
    code = ProblemCode.RATE_LIMITED
    title = "Too many failed logins"


@blp.post("/auth/login")
@blp.arguments(LoginSchema)
@blp.response(200, TokenSchema)
@blp.doc(security=[])
def login(body: dict[str, Any]) -> dict[str, Any]:
    """Log in; registers the device on first login and returns a bearer token bound to it."""
    throttle = current_app.extensions["xuncha.login_throttle"]
    key = throttle.key(request.remote_addr or "-", body["username"])
    wait = throttle.retry_after(key)
    if wait is not None:
        raise RateLimited(f"Too many failed logins; try again in {wait} seconds.",
                          headers={"Retry-After": str(wait)})
    session = db.session()
    try:
        issued = services.login(
            session, app_clock(), current_app.extensions["xuncha.hasher"],
            username=body["username"], password=body["password"],
            device=services.DeviceInfo(**body["device"]),
            ttl=dt.timedelta(hours=current_app.config["TOKEN_TTL_HOURS"]))
    except InvalidCredentials:
        throttle.failed(key)
        raise
    session.commit()
    throttle.succeeded(key)
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
@requires(Permission.REVOKE_TOKENS)
@blp.arguments(RevokeSchema)
@blp.response(200, RevokedSchema)
def revoke_token(body: dict[str, Any], token_id: int) -> dict[str, int]:
    token = services.revoke_token(db.session(), app_clock(), current_user(), token_id, body["reason"])
    db.session().commit()
    return {"revoked": 1 if token.revoked_at else 0}


@blp.post("/users/<int:user_id>/revoke-tokens")
@requires(Permission.REVOKE_TOKENS)
@blp.arguments(RevokeSchema)
@blp.response(200, RevokedSchema)
def revoke_user_tokens(body: dict[str, Any], user_id: int) -> dict[str, int]:
    """Log a user out everywhere (a password leak, a person leaving the team)."""
    count = services.revoke_user_tokens(db.session(), app_clock(), current_user(), user_id, body["reason"])
    db.session().commit()
    return {"revoked": count}


@blp.post("/devices/<uuid:device_id>/revoke")
@requires(Permission.REVOKE_TOKENS)
@blp.arguments(RevokeSchema)
@blp.response(200, RevokedSchema)
def revoke_device(body: dict[str, Any], device_id: uuid.UUID) -> dict[str, int]:
    """A lost phone: its tokens stop working and it cannot log in again."""
    count = services.revoke_device(db.session(), app_clock(), current_user(), device_id, body["reason"])
    db.session().commit()
    return {"revoked": count}
