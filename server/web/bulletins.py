"""Bulletins (快报) in the console: those issued with their 第N期, and issuing the next one for a
period through the service ``POST /bulletins/issue`` uses. The documents are the API's (DOCX,
HTML), opened with the console's cookie."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Response, flash, redirect, render_template, request, url_for

from server import db
from server.auth.models import Role
from server.auth.permissions import Permission
from server.auth.security import current_user, requires
from server.campaigns.models import Campaign
from server.campaigns.services import campaign_of
from server.clock import app_clock
from server.errors import ValidationFailed
from server.reports import services as reports
from server.reports.models import BulletinIssue
from server.reports.schemas import BulletinArgsSchema
from server.web import results_forms as forms
from server.web.text import text
from server.web.views import blp

#: A first bulletin covers the week up to today unless the clerk says otherwise.
FIRST_PERIOD_DAYS = 7


def _campaign() -> Campaign | None:
    """The caller's campaign; for an admin the one named (``campaign_id``), or the only one.
    None when an admin of several campaigns has named none yet."""
    user = current_user()
    raw = request.values.get("campaign_id", "")
    try:
        return campaign_of(db.session(), user, int(raw) if raw.isdigit() and user.role is Role.ADMIN else None)
    except ValidationFailed:
        return None


def _page(campaign: Campaign | None, values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
          status: int = 200) -> tuple[str, int]:
    session = db.session()
    if campaign is None:
        campaigns = session.scalars(sa.select(Campaign).order_by(Campaign.name)).all()
        return render_template("web/results_bulletins.html", campaign=None, campaigns=campaigns), status
    issued = session.scalars(sa.select(BulletinIssue).where(BulletinIssue.campaign_id == campaign.id)
                             .order_by(BulletinIssue.number.desc())).all()
    if values is None:
        today = app_clock().now().astimezone(ZoneInfo(campaign.timezone)).date()
        start = issued[0].ends_on + dt.timedelta(days=1) if issued else today - dt.timedelta(days=FIRST_PERIOD_DAYS - 1)
        values = {"start": min(start, today).isoformat(), "end": today.isoformat()}
    return render_template("web/results_bulletins.html", campaign=campaign, issued=issued, values=values,
                           errors=errors or {}), status


@blp.get("/bulletins")
@requires(Permission.MANAGE_REPORTS)
def bulletins_page() -> tuple[str, int]:
    return _page(_campaign())


@blp.post("/bulletins")
@requires(Permission.MANAGE_REPORTS)
def issue_bulletin() -> Response | tuple[str, int]:
    """Number the period's bulletin: the next 第N期, or the number the period was issued with; or
    (``action=preview``) open the period's bulletin before numbering it."""
    campaign = _campaign()
    if campaign is None:
        return _page(None, status=422)
    session = db.session()
    values: dict[str, Any] = {name: request.form.get(name, "").strip() for name in ("start", "end")}
    try:
        period = forms.load(BulletinArgsSchema(), values)
    except ValidationFailed as exc:
        return _page(campaign, values, forms.Paths().errors(exc), 422)
    if request.form.get("action") == "preview":
        # The API's page of the period, opened in its own window, before any number is given.
        return redirect(url_for("reports.bulletin_html", start=period["start"].isoformat(),
                                end=period["end"].isoformat(), campaign_id=campaign.id))
    issue = reports.issue_bulletin(session, app_clock(), campaign, period["start"], period["end"], current_user())
    session.commit()
    flash(text("results.bulletin_issued", number=issue.number))
    return redirect(url_for("web.bulletins_page", campaign_id=campaign.id))
