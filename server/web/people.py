"""The office's people pages (docs/console.md): the accounts an admin or a supervisor manages,
creating them one by one or from a spreadsheet, disabling and enabling them, resetting a
password, and setting up a phone with a one-time QR code.

Who may do which to whom is the API's rule (:func:`server.auth.scope.manages_account`), asked by
the same services the API calls: a supervisor manages their campaign's inspectors and liaisons;
an account they cannot see is 404, one they see but do not manage 403.

A page that shows a secret once (a generated password, a set-up code, an import's generated
passwords) is the answer to the POST that made it, not a redirect to a page that could show it
again: the secret is kept nowhere, not even in the session cookie. Posting it again makes a new
one (the last code voids the earlier). Every other form redirects after the POST.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask import Response, current_app, flash, redirect, render_template, request, url_for
from markupsafe import Markup

from server import db
from server.auth import accounts, enrolment, passwords
from server.auth.models import FIELD_ROLES, Role, User
from server.auth.permissions import Permission
from server.auth.schemas import RevokeSchema
from server.auth.scope import campaign_condition, manages_account
from server.auth.security import authenticate_request, requires
from server.auth.throttle import throttle
from server.campaigns.models import Campaign
from server.clock import app_clock
from server.errors import Conflict, ValidationFailed, flatten_messages
from server.imports import users as users_file
from server.units.models import Unit
from server.users import roster
from server.users.schemas import UserCreateSchema
from server.web import imports, inspector, staging
from server.web.text import text
from server.web.views import blp
from sync_protocol.fields import Integer, String

PAGE = 50
#: The steps the person page offers, each shown where the caller may take it.
ACTIONS = ("user.disable", "user.enable", "user.reset_password", "user.enrol")


def _me() -> User:
    return authenticate_request().user


def _load(schema: ma.Schema, raw: dict[str, Any]) -> dict[str, Any]:
    """A form or query through the API's schema: the same rules, the same messages. Empty fields
    are left out, so they take the schema's default as an omitted JSON member would."""
    try:
        return schema.load({k: v for k, v in raw.items() if k != "csrf_token" and v.strip()})  # type: ignore[no-any-return]
    except ma.ValidationError as exc:
        raise ValidationFailed("The form did not validate.", errors=list(flatten_messages(exc.messages))) from None


def _campaigns() -> list[Campaign]:
    return list(db.session().scalars(sa.select(Campaign).where(campaign_condition(_me(), Campaign.id))
                                     .order_by(Campaign.id)))


def _chosen(campaigns: list[Campaign], wanted: Any) -> Campaign | None:
    """The campaign a form is for: the one asked for among the caller's, else their first."""
    return next((c for c in campaigns if str(c.id) == str(wanted)), campaigns[0] if campaigns else None)


def _units(campaign_id: int | None) -> list[tuple[int, str]]:
    stmt = sa.select(Unit.id, Unit.name).where(campaign_condition(_me(), Unit.campaign_id)).order_by(Unit.name)
    if campaign_id is not None:
        stmt = stmt.where(Unit.campaign_id == campaign_id)
    return [tuple(row) for row in db.session().execute(stmt)]  # type: ignore[misc]


# -- the list -------------------------------------------------------------------------------------

class ListArgs(ma.Schema):
    role = ma.fields.Enum(Role, by_value=True, load_default=None)
    campaign_id = Integer(load_default=None)
    unit_id = Integer(load_default=None)
    q = String(load_default="", validate=ma.validate.Length(max=100))
    state = String(load_default="", validate=ma.validate.OneOf(["", "active", "disabled"]))
    after = String(load_default="", validate=ma.validate.Length(max=64))


@blp.get("/people")
@requires(Permission.MANAGE_USERS)
def people() -> str:
    """The people the caller manages, by username, with their account's state."""
    args = _load(ListArgs(), request.args.to_dict())
    filters = roster.Filters(role=args["role"], campaign_id=args["campaign_id"], unit_id=args["unit_id"],
                             text=args["q"], active={"active": True, "disabled": False}.get(args["state"]))
    found, next_after = roster.people(db.session(), _me(), filters, locked_for=throttle().locked_out,
                                      after=args["after"], limit=PAGE)
    campaigns = _campaigns()
    return render_template("web/people_list.html", people=found, next_after=next_after, args=args,
                           roles=[r for r in Role if _me().role is Role.ADMIN or r in FIELD_ROLES],
                           campaigns=campaigns if len(campaigns) > 1 else [],
                           units=_units(args["campaign_id"]), page_url=_page_url)


def _page_url(**changes: str) -> str:
    kept = [(k, v) for k, v in request.args.items() if k not in changes and v.strip()]
    kept += [(k, v) for k, v in changes.items() if v]
    return url_for("web.people", **dict(kept))


# -- creating one -----------------------------------------------------------------------------------

@blp.get("/people/new")
@requires(Permission.MANAGE_USERS)
def person_new() -> Any:
    return _creation_form({}, [])


def _creation_form(values: dict[str, Any], errors: list[dict[str, Any]], status: int = 200) -> Any:
    """The form, for the campaign chosen (an admin with several picks one; its units are offered)."""
    campaigns = _campaigns()
    chosen = _chosen(campaigns, values.get("campaign_id") or request.args.get("campaign_id", ""))
    me = _me()
    roles = [r for r in Role if manages_account(me, "user.create", r,
                                                 None if r is Role.ADMIN else chosen.id if chosen else None)]
    page = render_template("web/people_new.html", values=values, errors=errors, roles=roles, campaign=chosen,
                           campaigns=campaigns if len(campaigns) > 1 else [],
                           units=_units(chosen.id) if chosen else [])
    return page, status


@blp.post("/people/new")
@requires(Permission.MANAGE_USERS)
def person_create() -> Any:
    values = request.form.to_dict()
    values.pop("csrf_token", None)
    session = db.session()
    try:
        body = _load(UserCreateSchema(), values)
        user = accounts.create_account(session, app_clock(), current_app.extensions["xuncha.hasher"], _me(),
                                       **body)
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        values.pop("password", None)  # never sent back to the page
        field = "username" if getattr(exc.detail, "key", "") == "username_taken" else None
        return _creation_form(values, exc.errors or [{"field": field, "message": exc.detail}], exc.status)
    session.commit()
    flash(text("people.created", name=user.display_name))
    return redirect(url_for("web.person", user_id=user.id))


# -- one person -----------------------------------------------------------------------------------

@blp.get("/people/<int:user_id>")
@requires(Permission.MANAGE_USERS)
def person(user_id: int) -> str:
    """The account, its phones and their sync state, its history, and the steps the caller may take."""
    session = db.session()
    me = _me()
    user = accounts.visible_account(session, me, user_id)
    may = {action.split(".", 1)[1]: manages_account(me, action, user.role, user.campaign_id) for action in ACTIONS}
    may["enrol"] = may["enrol"] and user.role in FIELD_ROLES and user.active
    campaign = session.get(Campaign, user.campaign_id) if user.campaign_id else None
    unit = session.get(Unit, user.unit_id) if user.unit_id else None
    history = roster.history(session, user.id)
    actors = {e.actor_id for e in history} - {None}
    actor_names = dict(session.execute(sa.select(User.id, User.display_name).where(User.id.in_(actors))).all())
    return render_template("web/people_person.html", person=user, may=may, unit=unit,
                           campaign=campaign.name if campaign else None,
                           devices=inspector.devices_of(session, user.id),
                           locked_for=throttle().locked_out(user.username), history=history,
                           last_login=roster.last_logins(session, [user.id]).get(user.id),
                           actor_names=actor_names, ttl=current_app.config["ENROLMENT_CODE_TTL_MINUTES"])


def _reason() -> str:
    return str(_load(RevokeSchema(), {"reason": request.form.get("reason", "")})["reason"])


@blp.post("/people/<int:user_id>/disable")
@requires(Permission.MANAGE_USERS)
def person_disable(user_id: int) -> Response:
    return _set_active(user_id, False)


@blp.post("/people/<int:user_id>/enable")
@requires(Permission.MANAGE_USERS)
def person_enable(user_id: int) -> Response:
    return _set_active(user_id, True)


def _set_active(user_id: int, active: bool) -> Response:
    session = db.session()
    revoked = accounts.set_active(session, app_clock(), user_id, active, actor=_me(), reason=_reason())
    session.commit()
    flash(text("people.enabled") if active else text("people.disabled", revoked=revoked))
    return redirect(url_for("web.person", user_id=user_id))


@blp.post("/people/<int:user_id>/password")
@requires(Permission.MANAGE_USERS)
def person_password(user_id: int) -> str:
    """A strong password made up here and shown once; every token of the account is revoked."""
    session = db.session()
    password = passwords.generate()
    revoked = accounts.reset_password(session, app_clock(), current_app.extensions["xuncha.hasher"], user_id,
                                      password=password, actor=_me(), reason=_reason())
    user = session.get_one(User, user_id)
    username = user.username
    session.commit()
    # Between the commit and the next read: on SQLite the throttle's store writes on a connection
    # of its own, which a writing request's next transaction would lock out.
    throttle().lift_lockout(username)
    return render_template("web/people_secret.html", person=user, password=password, revoked=revoked)


@blp.post("/people/<int:user_id>/enrolment")
@requires(Permission.MANAGE_USERS)
def person_enrolment(user_id: int) -> str:
    """A one-time code for the person's phone, as a QR code drawn here (inline SVG: the page's
    policy allows no inline script or style, and a QR code needs neither) and as text."""
    session = db.session()
    issued = enrolment.issue(session, app_clock(), user_id, actor=_me(), ttl=_ttl())
    session.commit()
    uri = issued.uri(request.host_url)
    return render_template("web/people_enrol.html", person=session.get_one(User, user_id), code=issued.code,
                           expires_at=issued.record.expires_at, uri=uri, qr=Markup(enrolment.qr_svg(uri)))


def _ttl() -> dt.timedelta:
    return dt.timedelta(minutes=current_app.config["ENROLMENT_CODE_TTL_MINUTES"])


# -- importing: checked, then confirmed, as every import from the console (server/web/imports.py) --

@blp.get("/people/import")
@requires(Permission.MANAGE_USERS)
def people_import() -> str:
    return _import_page(_chosen(_campaigns(), request.args.get("campaign_id", "")))


@blp.post("/people/import")
@requires(Permission.MANAGE_USERS)
def people_import_check() -> tuple[str, int]:
    """Check the file (a dry run: every problem by line and column, nothing written), into the
    campaign the form names (an admin's choice; a supervisor's own)."""
    chosen = request.form.get("campaign_id", "").strip()
    where = imports.where_to("campaigns", int(chosen) if chosen.isdigit() else None, "users")
    try:
        checked = imports.check("users", where)
    except ValidationFailed:
        return _import_page(where.campaign, errors=[(text("setup.field.file"), text("setup.import.choose_file"))]), 422
    return _import_page(where.campaign, checked=checked), 200 if checked.report.ok else 422


@blp.post("/people/import/<int:campaign_id>/confirm")
@requires(Permission.MANAGE_USERS)
def people_import_confirm(campaign_id: int) -> tuple[str, int]:
    """Import the file checked. The passwords made up for new accounts are on this answer alone:
    posting it again names a file imported already (410)."""
    where = imports.where_to("campaigns", campaign_id, "users")
    try:
        checked = imports.confirm("users", where)
    except staging.Gone:
        return _import_page(where.campaign, errors=[("", text("setup.import.gone"))]), 410
    return _import_page(where.campaign, checked=checked), 200 if checked.report.ok else 422


def _import_page(campaign: Campaign | None, *, checked: imports.Checked | None = None,
                 errors: list[tuple[str, str]] | None = None) -> str:
    campaigns = _campaigns()
    return render_template("web/people_import.html", checked=checked, errors=errors or [], campaign=campaign,
                           campaigns=campaigns if len(campaigns) > 1 else [], columns=users_file.COLUMNS,
                           confirm=url_for("web.people_import_confirm", campaign_id=campaign.id) if campaign else "",
                           again=url_for("web.people_import", campaign_id=campaign.id) if campaign else "")
