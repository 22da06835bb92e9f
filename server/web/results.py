"""The office's results pages: the rounds it manages, each round's results typed in or read from
a score sheet, the ranking they give, and the round's assessment configuration.

Every write goes through the service the API's own call uses (``PUT /rounds/{id}/results``: the
score-sheet engine; ``PUT /rounds/{id}/assessment``: :func:`server.assessment.services.update_config`),
which refuses a form with any bad row whole; the page then shows each error beside its row or
field, in Chinese, with what the clerk typed kept. A score sheet is checked, then confirmed, as
the office's other imports are (:mod:`server.web.imports`), on this page. A round of a campaign
the caller does not manage answers 404, as in the API.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response, flash, redirect, render_template, request, url_for

from server import db
from server.assessment import config as configs
from server.assessment import services as assessment
from server.assessment.models import Circular, EnteredResult
from server.assessment.results import RoundResult
from server.auth.permissions import Permission
from server.auth.scope import campaign_condition
from server.auth.security import current_user, requires
from server.campaigns.models import AssessmentGroup, Campaign
from server.clock import app_clock
from server.errors import ValidationFailed
from server.imports import scores
from server.imports.uploads import import_typed
from server.reports.circular import ranking_section
from server.reports.schemas import AssessmentConfigSchema
from server.rounds import services as rounds
from server.rounds.models import Round, RoundMode
from server.web import imports, staging
from server.web import results_forms as forms
from server.web.text import text
from server.web.views import blp


@blp.get("/results")
@requires(Permission.MANAGE_REPORTS)
def results_index() -> str:
    """The rounds the caller manages, newest first, with how far each has come."""
    session = db.session()
    listed = session.execute(sa.select(Round, Campaign.name).join(Campaign, Campaign.id == Round.campaign_id)
                             .where(campaign_condition(current_user(), Round.campaign_id))
                             .order_by(Round.starts_on.desc(), Round.id.desc())).all()
    ids = [r.id for r, _ in listed]
    entered = dict(session.execute(sa.select(EnteredResult.round_id, sa.func.count())
                                   .where(EnteredResult.round_id.in_(ids)).group_by(EnteredResult.round_id)).all())
    circulars: dict[int, dict[str, int]] = {}
    for round_id, status, count in session.execute(
            sa.select(Circular.round_id, Circular.status, sa.func.count()).where(Circular.round_id.in_(ids))
            .group_by(Circular.round_id, Circular.status)):
        circulars.setdefault(round_id, {})[status.value] = count
    return render_template("web/results_index.html", rounds=listed, entered=entered, circulars=circulars,
                           campaigns=len({name for _, name in listed}))


# -- results ------------------------------------------------------------------------------------

def _groups(campaign_id: int) -> list[str]:
    """The campaign's assessment groups in the order circulars list them."""
    return list(db.session().scalars(sa.select(AssessmentGroup.name).where(AssessmentGroup.campaign_id == campaign_id)
                                     .order_by(AssessmentGroup.position, AssessmentGroup.name)))


def _round_view(round_: Round) -> tuple[RoundResult, list[forms.ResultRow]]:
    """The round's ranking as of now, and its results table as stored."""
    session = db.session()
    result = assessment.assess_round(session, round_, app_clock().now())
    config = assessment.config_for(session, round_.id)
    tiers = {"": [t.name for t in configs.tiers_of(config)]}
    if config.rank_by_group:
        tiers.update({name: [t.name for t in own] for name, (_m, own) in configs.group_tiers_of(config).items()})
    groups = _groups(round_.campaign_id)
    entered = {e.unit_id: e for e in session.scalars(sa.select(EnteredResult)
                                                     .where(EnteredResult.round_id == round_.id))}
    excluded = {e.unit_id: e.reason for e in assessment.exclusions_for(session, round_.id)}
    rows = forms.stored_rows(result.units, entered, excluded, tiers, {g: i for i, g in enumerate(groups)})
    return result, rows


def _results_page(round_: Round, rows: list[forms.ResultRow] | None = None, status: int = 200,
                  view: tuple[RoundResult, list[forms.ResultRow]] | None = None, **extra: Any) -> tuple[str, int]:
    result, stored = view or _round_view(round_)
    return render_template("web/results_round.html", round=round_, result=result, rows=rows or stored,
                           grouped=any(r.group for r in stored), ranking=ranking_section(result),
                           **extra), status


@blp.get("/results/<int:round_id>")
@requires(Permission.MANAGE_ASSESSMENTS)
def round_results(round_id: int) -> tuple[str, int]:
    return _results_page(rounds.managed_round(db.session(), current_user(), round_id))


@blp.post("/results/<int:round_id>")
@requires(Permission.MANAGE_ASSESSMENTS)
def save_results(round_id: int) -> Response | tuple[str, int]:
    """The table as typed, through the results service: all rows or none."""
    round_ = rounds.managed_round(db.session(), current_user(), round_id, "round.enter_results")
    # Refused forms leave the data as it was: the page shows the ranking read before.
    view = _round_view(round_)
    rows = forms.submitted_rows(request.form, view[1])
    sent, ordered = forms.service_rows(rows)
    if any(r.errors for r in rows):
        return _results_page(round_, rows, 422, view, general=[text("results.fix_rows")])
    if not sent:
        return _results_page(round_, rows, 422, view, general=[text("results.nothing")])
    try:
        report = import_typed(scores.SPEC, sent, campaign=db.session().get_one(Campaign, round_.campaign_id),
                              target=round_)
    except ValidationFailed as exc:
        general = forms.place_errors(exc, ordered)
        return _results_page(round_, rows, 422, view, general=[text("results.fix_rows"), *general])
    flash(text("results.saved", created=report.created, updated=report.updated, unchanged=report.unchanged))
    return redirect(url_for("web.round_results", round_id=round_.id))


# -- a score sheet, checked then confirmed as the office's other imports are (server/web/imports.py)

@blp.post("/results/<int:round_id>/sheet")
@requires(Permission.MANAGE_ASSESSMENTS)
def check_sheet(round_id: int) -> tuple[str, int]:
    """Check an uploaded score sheet, writing nothing: every problem, or what it would do with
    its first rows and the confirm, which imports the file kept meanwhile."""
    where = imports.where_to("rounds", round_id, "scores")
    assert where.round is not None
    try:
        checked = imports.check("scores", where)
    except ValidationFailed:
        return _results_page(where.round, status=422, sheet_refused=text("setup.import.choose_file"))
    return _results_page(where.round, status=200 if checked.report.ok else 422, sheet=checked)


@blp.post("/results/<int:round_id>/sheet/confirm")
@requires(Permission.MANAGE_ASSESSMENTS)
def import_sheet(round_id: int) -> Response | tuple[str, int]:
    """Import the sheet checked (checked again: the data may have moved since)."""
    where = imports.where_to("rounds", round_id, "scores")
    assert where.round is not None
    try:
        checked = imports.confirm("scores", where)
    except staging.Gone:
        return _results_page(where.round, status=410, sheet_refused=text("setup.import.gone"))
    if not checked.report.ok:
        return _results_page(where.round, status=422, sheet=checked)
    return redirect(where.back)


# -- the assessment configuration ---------------------------------------------------------------

def _config_form(round_: Round) -> dict[str, Any]:
    """What the form offers: the campaign's groups, and for an annual round (or one combining
    rounds already) the campaign's other rounds to combine."""
    session = db.session()
    config = assessment.config_for(session, round_.id)
    groups = _groups(round_.campaign_id)
    candidates = None
    if round_.mode is RoundMode.ANNUAL or config.sources:
        candidates = list(session.execute(sa.select(Round.id, Round.name).where(
            Round.campaign_id == round_.campaign_id, Round.id != round_.id).order_by(Round.starts_on, Round.id)))
    return {"config": config, "groups": groups, "candidates": candidates}


def _config_page(round_: Round, values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                 status: int = 200) -> tuple[str, int]:
    offer = _config_form(round_)
    candidates = offer["candidates"]
    if values is None:
        values = forms.config_values(offer["config"], offer["groups"], [i for i, _ in candidates or []])
    slots = {prefix: forms.tier_slots(values, f"{prefix}.")
             for prefix in ["tiers", *(f"groups.{i}.tiers" for i in range(len(offer["groups"])))]}
    on_fields, elsewhere = forms.placed(errors or {}, forms.config_fields(len(offer["groups"]), len(candidates or [])))
    return render_template("web/results_assessment.html", round=round_, values=values, errors=on_fields,
                           general=elsewhere, failed=bool(errors), groups=offer["groups"], candidates=candidates,
                           slots=slots, deductions=forms.DEDUCTIONS), status


@blp.get("/results/<int:round_id>/assessment")
@requires(Permission.MANAGE_REPORTS)
def round_assessment(round_id: int) -> tuple[str, int]:
    return _config_page(rounds.managed_round(db.session(), current_user(), round_id))


@blp.post("/results/<int:round_id>/assessment")
@requires(Permission.MANAGE_REPORTS)
def save_assessment(round_id: int) -> Response | tuple[str, int]:
    round_ = rounds.managed_round(db.session(), current_user(), round_id)
    offer = _config_form(round_)
    candidates = offer["candidates"]
    body, paths = forms.config_body(request.form, offer["groups"],
                                    None if candidates is None else [i for i, _ in candidates])
    session = db.session()
    try:
        values = forms.load(AssessmentConfigSchema(), body)
        assessment.update_config(session, app_clock(), round_, current_user(), values)
    except ValidationFailed as exc:
        session.rollback()
        return _config_page(round_, dict(request.form), paths.errors(exc), 422)
    session.commit()
    flash(text("results.config_saved"))
    return redirect(url_for("web.round_assessment", round_id=round_.id))
