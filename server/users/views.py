from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from server import db
from server.api import Blueprint
from server.auth.models import Role, User
from server.auth.permissions import Permission
from server.auth.schemas import UserSchema
from server.auth.security import current_user, requires
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
