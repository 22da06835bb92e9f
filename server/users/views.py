from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_smorest import Blueprint

from server import db
from server.auth import accounts
from server.auth.models import Role, User
from server.auth.permissions import Permission
from server.auth.schemas import AccountChangedSchema, ResetPasswordSchema, RevokeSchema, UserSchema
from server.auth.security import current_user, requires
from server.auth.throttle import throttled
from server.clock import app_clock
from server.pagination import PageArgsSchema, page_schema, paginate

blp = Blueprint("users", __name__, url_prefix="/api/v1", description="User accounts (supervisors and admins)")


@blp.get("/users")
@requires(Permission.READ_USERS)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_schema(UserSchema))
def list_users(args: dict[str, Any]) -> dict[str, Any]:
    """Accounts in the caller's campaign (all accounts for an admin)."""
    user = current_user()
    stmt = sa.select(User)
    if user.role is not Role.ADMIN:
        stmt = stmt.where(User.campaign_id == user.campaign_id)
    return paginate(db.session(), stmt, User.id, args)


@blp.post("/users/<int:user_id>/password")
@throttled
@blp.alt_response(429, response="TOO_MANY_REQUESTS", description="Throttled; Retry-After says when to try again")
@requires(Permission.MANAGE_USERS)
@blp.arguments(ResetPasswordSchema)
@blp.response(200, AccountChangedSchema)
def reset_password(body: dict[str, Any], user_id: int) -> dict[str, Any]:
    """Set a new password for someone who forgot theirs; every token of the account is revoked."""
    revoked = accounts.reset_password(db.session(), app_clock(), current_app.extensions["xuncha.hasher"], user_id,
                                      password=body["password"], actor_id=current_user().id, reason=body["reason"])
    return _changed(user_id, revoked)


@blp.post("/users/<int:user_id>/disable")
@requires(Permission.MANAGE_USERS)
@blp.arguments(RevokeSchema)
@blp.response(200, AccountChangedSchema)
def disable_user(body: dict[str, Any], user_id: int) -> dict[str, Any]:
    """Disable an account: it cannot log in, and every token of it is revoked (for good)."""
    revoked = accounts.set_active(db.session(), app_clock(), user_id, False, actor_id=current_user().id,
                                  reason=body["reason"])
    return _changed(user_id, revoked)


@blp.post("/users/<int:user_id>/enable")
@requires(Permission.MANAGE_USERS)
@blp.arguments(RevokeSchema)
@blp.response(200, AccountChangedSchema)
def enable_user(body: dict[str, Any], user_id: int) -> dict[str, Any]:
    """Enable a disabled account again; its user logs in afresh (no old token comes back)."""
    revoked = accounts.set_active(db.session(), app_clock(), user_id, True, actor_id=current_user().id,
                                  reason=body["reason"])
    return _changed(user_id, revoked)


def _changed(user_id: int, revoked: int) -> dict[str, Any]:
    session = db.session()
    session.commit()
    return {"user": session.get(User, user_id), "revoked": revoked}
