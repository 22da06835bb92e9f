from __future__ import annotations

from typing import Any

import base64
import datetime as dt

import sqlalchemy as sa
from flask import Response, current_app, request

from server import db
from server.api import Blueprint, file_response
from server.auth import accounts
from server.auth.models import User
from server.auth.permissions import Permission
from server.auth.schemas import (AccountChangedSchema, EnrolmentCodeSchema, ResetPasswordSchema, RevokeSchema,
                                 UserSchema)
from server.auth.scope import campaign_condition
from server.auth.security import current_user, requires
from server.auth.throttle import throttle, throttled
from server.campaigns.services import campaign_of
from server.clock import app_clock
from server.imports import users as users_file
from server.imports.base import ImportReport
from server.imports.downloads import table_download
from server.imports.schemas import CampaignExportArgsSchema
from server.imports.uploads import import_upload
from server.imports.writers import MIMETYPES
from server.pagination import PageArgsSchema, page_schema, paginate
from server.users.schemas import UserCreateSchema, UserImportFormSchema, UserImportReportSchema

blp = Blueprint("users", __name__, url_prefix="/api/v1", description="User accounts (supervisors and admins)")

#: Who may change whose account: :func:`server.auth.scope.manages_account` (admins any account,
#: supervisors their campaign's inspectors and liaisons), asked by the services these call.


@blp.get("/users")
@requires(Permission.READ_USERS)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_schema(UserSchema))
def list_users(args: dict[str, Any]) -> dict[str, Any]:
    """Accounts in the caller's campaign (all accounts for an admin)."""
    stmt = sa.select(User).where(campaign_condition(current_user(), User.campaign_id))
    return paginate(db.session(), stmt, User.id, args)


@blp.post("/users")
@requires(Permission.MANAGE_USERS)
@blp.arguments(UserCreateSchema)
@blp.response(201, UserSchema)
@blp.alt_response(403, response="FORBIDDEN", description="A supervisor naming a staff role")
@blp.alt_response(404, response="NOT_FOUND", description="A campaign the caller does not see")
@blp.alt_response(409, response="CONFLICT", description="The username is taken")
def create_user(body: dict[str, Any]) -> User:
    """Create an account: admins any, supervisors an inspector or liaison of their campaign. An
    inspector or liaison created without a password has none anyone knows: their phone is set up
    with a one-time code (POST /users/{id}/enrolment)."""
    session = db.session()
    user = accounts.create_account(session, app_clock(), current_app.extensions["xuncha.hasher"], current_user(),
                                   **body)
    session.commit()
    return user


@blp.post("/users/import")
@requires(Permission.MANAGE_USERS)
@blp.arguments(UserImportFormSchema, location="form")
@blp.response(200, UserImportReportSchema)
def import_users(form: dict[str, Any]) -> ImportReport:
    """Accounts from a spreadsheet (multipart field ``file``), as ``xuncha import users`` reads it:
    用户名, 姓名, 角色, 单位编码, 电话, 邮箱, 初始密码. All or nothing: any bad row imports none and
    answers 422 listing every problem by line. A supervisor's rows are inspectors and liaisons of
    their campaign (a row naming anyone else's account is one of the problems)."""
    campaign = campaign_of(db.session(), current_user(), form["campaign_id"])
    return import_upload(users_file.SPEC, campaign=campaign, dry_run=form["dry_run"])


@blp.get("/users/export")
@requires(Permission.MANAGE_USERS)
@blp.arguments(CampaignExportArgsSchema, location="query")
@blp.doc(**file_response(MIMETYPES.values(), "The spreadsheet, as its import reads it back"))
def export_users(args: dict[str, Any]) -> Response:
    """The campaign's accounts the caller manages as the file the users import reads back (XLSX, or
    CSV UTF-8): 用户名, 姓名, 角色, 单位编码, 电话, 邮箱, never a password. A supervisor's file holds
    their campaign's inspectors and liaisons; an admin's every account of the campaign, and the
    admins."""
    session = db.session()
    campaign = campaign_of(session, current_user(), args["campaign_id"])
    rows = users_file.user_rows(session, campaign, current_user())
    return table_download(rows, args["format"], title="users", name=f"campaign-{campaign.id}-users")


@blp.post("/users/<int:user_id>/password")
@throttled
@blp.alt_response(429, response="TOO_MANY_REQUESTS", description="Throttled; Retry-After says when to try again")
@requires(Permission.MANAGE_USERS)
@blp.arguments(ResetPasswordSchema)
@blp.response(200, AccountChangedSchema)
def reset_password(body: dict[str, Any], user_id: int) -> dict[str, Any]:
    """Set a new password for someone who forgot theirs; every token of the account is revoked,
    and a lockout after failed logins is lifted (they log in with the new password now)."""
    session = db.session()
    revoked = accounts.reset_password(session, app_clock(), current_app.extensions["xuncha.hasher"], user_id,
                                      password=body["password"], actor=current_user(), reason=body["reason"])
    username = session.get_one(User, user_id).username
    session.commit()
    # Between the commit and the next read: on SQLite the throttle's store writes on a connection
    # of its own, which a writing request's next transaction would lock out.
    throttle().lift_lockout(username)
    return _changed(user_id, revoked)


@blp.post("/users/<int:user_id>/disable")
@requires(Permission.MANAGE_USERS)
@blp.arguments(RevokeSchema)
@blp.response(200, AccountChangedSchema)
def disable_user(body: dict[str, Any], user_id: int) -> dict[str, Any]:
    """Disable an account: it cannot log in, and every token of it is revoked (for good)."""
    revoked = accounts.set_active(db.session(), app_clock(), user_id, False, actor=current_user(),
                                  reason=body["reason"])
    return _changed(user_id, revoked)


@blp.post("/users/<int:user_id>/enable")
@requires(Permission.MANAGE_USERS)
@blp.arguments(RevokeSchema)
@blp.response(200, AccountChangedSchema)
def enable_user(body: dict[str, Any], user_id: int) -> dict[str, Any]:
    """Enable a disabled account again; its user logs in afresh (no old token comes back)."""
    revoked = accounts.set_active(db.session(), app_clock(), user_id, True, actor=current_user(),
                                  reason=body["reason"])
    return _changed(user_id, revoked)


@blp.post("/users/<int:user_id>/enrolment")
@throttled
@blp.alt_response(429, response="TOO_MANY_REQUESTS", description="Throttled; Retry-After says when to try again")
@requires(Permission.MANAGE_USERS)
@blp.response(201, EnrolmentCodeSchema)
def issue_enrolment(user_id: int) -> dict[str, Any]:
    """A one-time code, and its QR code, that sets up an inspector's or liaison's phone instead of
    a typed password (admins, and supervisors for their campaign). It lapses after
    ENROLMENT_CODE_TTL_MINUTES and voids the user's earlier unused codes."""
    from server.auth import enrolment

    session = db.session()
    issued = enrolment.issue(session, app_clock(), user_id, actor=current_user(),
                             ttl=dt.timedelta(minutes=current_app.config["ENROLMENT_CODE_TTL_MINUTES"]))
    session.commit()
    uri = issued.uri(request.host_url)
    return {"user_id": user_id, "code": issued.code, "expires_at": issued.record.expires_at, "uri": uri,
            "qr_png": base64.b64encode(enrolment.qr_png(uri)).decode("ascii")}


def _changed(user_id: int, revoked: int) -> dict[str, Any]:
    session = db.session()
    session.commit()
    return {"user": session.get(User, user_id), "revoked": revoked}
