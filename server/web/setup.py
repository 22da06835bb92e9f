"""The office's pages (办公室): a campaign, its standards (考核细则) and its rounds, set up by the
campaign's supervisors and admins without the command line or the API.

The forms are read by the API's own schemas and acted on by the same services
(server/campaigns, server/standards, server/rounds), so a page refuses what the API refuses;
another campaign's records are 404, and the field and the units get 403, as in the API. The
files' check and confirm are :mod:`server.web.imports`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask import Response, flash, redirect, render_template, url_for
from sqlalchemy.orm import selectinload

from server import db
from server.auth.models import User
from server.auth.permissions import Permission, allowed
from server.auth.scope import campaign_condition
from server.auth.security import authenticate_request, requires
from server.campaigns import services as campaigns
from server.campaigns.models import Campaign
from server.campaigns.schemas import CampaignSchema, CampaignUpdateSchema
from server.clock import app_clock
from server.errors import Conflict, ValidationFailed
from server.rounds import services as rounds
from server.rounds.models import Round, RoundMode, RoundStatus, Team
from server.rounds.schemas import RoundCreateSchema, RoundUpdateSchema
from server.standards import services as standards
from server.standards.models import Standard
from server.units.models import Unit, Zone
from server.web import forms
from server.web.text import text
from server.web.views import blp

#: What a form may refuse with a page of its own: a bad field, a name taken.
REFUSED = (ma.ValidationError, ValidationFailed, Conflict)
CAMPAIGN_FIELDS = ("name", "office", "timezone", "starts_on", "ends_on")
ROUND_FIELDS = ("name", "mode", "status", "starts_on", "ends_on")


def _user() -> User:
    return authenticate_request().user


@blp.get("/office")
@requires(Permission.MANAGE_ASSESSMENTS)
def office() -> str:
    """The campaigns the caller sets up, each with its standards and rounds."""
    session = db.session()
    user = _user()
    found = session.scalars(sa.select(Campaign).where(campaign_condition(user, Campaign.id))
                            .order_by(Campaign.id)).all()
    ids = [c.id for c in found]
    versions: dict[int, list[Standard]] = defaultdict(list)
    for standard in session.scalars(sa.select(Standard).where(Standard.campaign_id.in_(ids))
                                    .order_by(Standard.code, Standard.version)):
        versions[standard.campaign_id].append(standard)
    runs: dict[int, list[Round]] = defaultdict(list)
    for round_ in session.scalars(sa.select(Round).where(Round.campaign_id.in_(ids))
                                  .order_by(Round.starts_on.desc(), Round.id.desc())):
        runs[round_.campaign_id].append(round_)
    return render_template("web/setup_home.html", campaigns=found, standards=versions, rounds=runs,
                           may_create=allowed(user.role, Permission.CREATE_CAMPAIGNS))


# -- campaigns -----------------------------------------------------------------------------------

@blp.get("/office/campaigns/new")
@requires(Permission.CREATE_CAMPAIGNS)
def campaign_new() -> str:
    return render_template("web/setup_campaign_new.html", form={}, errors=[])


@blp.post("/office/campaigns/new")
@requires(Permission.CREATE_CAMPAIGNS)
def campaign_create() -> Response | tuple[str, int]:
    session = db.session()
    raw: dict[str, Any] = forms.given(CAMPAIGN_FIELDS)
    if forms.lines("groups"):
        raw["groups"] = forms.lines("groups")
    try:
        campaign = campaigns.create_campaign(session, app_clock(), _user(), CampaignSchema().load(raw))
    except REFUSED as exc:
        session.rollback()
        errors, status = forms.refusal(exc)
        form = {**raw, "groups": "\n".join(raw.get("groups", []))}
        return render_template("web/setup_campaign_new.html", form=form, errors=errors), status
    session.commit()
    flash(text("setup.campaign.created", name=campaign.name))
    return redirect(url_for("web.campaign_page", campaign_id=campaign.id))


@blp.get("/office/campaigns/<int:campaign_id>")
@requires(Permission.MANAGE_ASSESSMENTS)
def campaign_page(campaign_id: int) -> str:
    campaign = campaigns.campaign_of(db.session(), _user(), campaign_id)
    return _campaign_page(campaign, form=None, errors=[])


def _campaign_page(campaign: Campaign, *, form: dict[str, Any] | None, errors: list[tuple[str, str]]) -> str:
    session = db.session()
    counts = {model.__name__: session.scalar(sa.select(sa.func.count()).select_from(model)
                                             .where(model.campaign_id == campaign.id)) for model in (Unit, Zone)}
    versions = session.scalars(sa.select(Standard).where(Standard.campaign_id == campaign.id)
                               .order_by(Standard.code, Standard.version)).all()
    runs = session.scalars(sa.select(Round).where(Round.campaign_id == campaign.id)
                           .order_by(Round.starts_on.desc(), Round.id.desc())).all()
    if form is None:
        form = {name: getattr(campaign, name) or "" for name in CAMPAIGN_FIELDS}
    return render_template("web/setup_campaign.html", campaign=campaign, form=form, errors=errors,
                           units=counts["Unit"], zones=counts["Zone"], standards=versions, rounds=runs)


@blp.post("/office/campaigns/<int:campaign_id>")
@requires(Permission.MANAGE_ASSESSMENTS)
def campaign_update(campaign_id: int) -> Response | tuple[str, int]:
    session = db.session()
    campaign = campaigns.campaign_of(session, _user(), campaign_id, "campaign.update")
    raw: dict[str, Any] = {"name": "", "office": "", **forms.given(CAMPAIGN_FIELDS)}
    # An emptied date clears it; an emptied time zone keeps the one there (it cannot be none).
    raw.setdefault("starts_on", None)
    raw.setdefault("ends_on", None)
    if forms.lines("groups"):
        raw["groups"] = forms.lines("groups")
    try:
        campaigns.update_campaign(session, app_clock(), _user(), campaign,
                                  CampaignUpdateSchema(partial=True).load(raw))
    except REFUSED as exc:
        session.rollback()
        errors, status = forms.refusal(exc)
        campaign = campaigns.campaign_of(session, _user(), campaign_id)
        return _campaign_page(campaign, form={**raw, "groups": "\n".join(raw.get("groups", []))},
                              errors=errors), status
    session.commit()
    flash(text("setup.campaign.saved"))
    return redirect(url_for("web.campaign_page", campaign_id=campaign_id))


# -- standards -----------------------------------------------------------------------------------

@blp.get("/office/standards/<int:standard_id>")
@requires(Permission.MANAGE_ASSESSMENTS)
def standard_page(standard_id: int) -> str:
    session = db.session()
    standard = standards.standard_of(session, _user(), standard_id)
    return render_template("web/setup_standard.html", standard=standard,
                           campaign=session.get_one(Campaign, standard.campaign_id))


@blp.post("/office/standards/<int:standard_id>/publish")
@requires(Permission.MANAGE_ASSESSMENTS)
def standard_publish(standard_id: int) -> Response:
    session = db.session()
    standard = standards.standard_of(session, _user(), standard_id)
    campaigns.require(_user(), "standard.publish", standard.campaign_id)
    standards.publish(session, app_clock(), _user(), standard)
    session.commit()
    flash(text("setup.standard.published", code=standard.code, version=standard.version))
    return redirect(url_for("web.campaign_page", campaign_id=standard.campaign_id))


# -- rounds --------------------------------------------------------------------------------------

@blp.get("/office/campaigns/<int:campaign_id>/rounds/new")
@requires(Permission.MANAGE_ASSESSMENTS)
def round_new(campaign_id: int) -> str:
    campaign = campaigns.campaign_of(db.session(), _user(), campaign_id, "round.create")
    return _round_new_page(campaign, form={"status": RoundStatus.PLANNED.value}, errors=[])


def _round_new_page(campaign: Campaign, *, form: dict[str, Any], errors: list[tuple[str, str]]) -> str:
    versions = db.session().scalars(sa.select(Standard).where(Standard.campaign_id == campaign.id)
                                    .order_by(Standard.code, Standard.version.desc())).all()
    return render_template("web/setup_round_new.html", campaign=campaign, form=form, errors=errors,
                           standards=versions, modes=list(RoundMode), statuses=list(RoundStatus))


@blp.post("/office/campaigns/<int:campaign_id>/rounds/new")
@requires(Permission.MANAGE_ASSESSMENTS)
def round_create(campaign_id: int) -> Response | tuple[str, int]:
    session = db.session()
    campaign = campaigns.campaign_of(session, _user(), campaign_id, "round.create")
    raw = forms.given((*ROUND_FIELDS, "standard_id"))
    try:
        values = RoundCreateSchema().load(raw)
        standard = rounds.standard_for(session, campaign, standard_id=values.pop("standard_id"),
                                       code=values.pop("standard_code"))
        round_ = rounds.create_round(session, app_clock(), _user(), campaign, standard, values)
    except REFUSED as exc:
        session.rollback()
        errors, status = forms.refusal(exc)
        campaign = campaigns.campaign_of(session, _user(), campaign_id)
        return _round_new_page(campaign, form=raw, errors=errors), status
    session.commit()
    flash(text("setup.round.created", name=round_.name))
    return redirect(url_for("web.round_page", round_id=round_.id))


@blp.get("/office/rounds/<int:round_id>")
@requires(Permission.MANAGE_ASSESSMENTS)
def round_page(round_id: int) -> str:
    round_ = rounds.managed_round(db.session(), _user(), round_id)
    form = {name: getattr(round_, name) for name in ROUND_FIELDS}
    return _round_page(round_, form={**form, "mode": round_.mode.value, "status": round_.status.value}, errors=[])


def _round_page(round_: Round, *, form: dict[str, Any], errors: list[tuple[str, str]]) -> str:
    session = db.session()
    teams = session.scalars(sa.select(Team).where(Team.round_id == round_.id).order_by(Team.position, Team.id)
                            .options(selectinload(Team.members), selectinload(Team.assignments))).all()
    people = {m.user_id for t in teams for m in t.members} | {t.leader_id for t in teams if t.leader_id}
    names = dict(session.execute(sa.select(User.id, User.display_name).where(User.id.in_(people))).all())
    units = session.scalar(sa.select(sa.func.count()).select_from(Unit).where(Unit.campaign_id == round_.campaign_id))
    return render_template("web/setup_round.html", round=round_, form=form, errors=errors, teams=teams, names=names,
                           units=units, assigned=sum(len(t.assignments) for t in teams),
                           campaign=session.get_one(Campaign, round_.campaign_id),
                           standard=session.get_one(Standard, round_.standard_id),
                           modes=list(RoundMode), statuses=list(RoundStatus))


@blp.post("/office/rounds/<int:round_id>")
@requires(Permission.MANAGE_ASSESSMENTS)
def round_update(round_id: int) -> Response | tuple[str, int]:
    session = db.session()
    round_ = rounds.managed_round(session, _user(), round_id, "round.update")
    raw = forms.given(ROUND_FIELDS)
    try:
        rounds.update_round(session, app_clock(), _user(), round_, RoundUpdateSchema().load(raw))
    except REFUSED as exc:
        session.rollback()
        errors, status = forms.refusal(exc)
        return _round_page(rounds.managed_round(session, _user(), round_id), form=raw, errors=errors), status
    session.commit()
    flash(text("setup.round.saved"))
    return redirect(url_for("web.round_page", round_id=round_id))
