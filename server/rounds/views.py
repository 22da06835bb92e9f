from __future__ import annotations

from typing import Any, Callable

import sqlalchemy as sa
from flask import Response
from sqlalchemy.orm import Session, selectinload

from server import db
from server.api import Blueprint, file_response
from server.auth.models import Role
from server.auth.permissions import Permission
from server.auth.scope import rounds_condition
from server.auth.security import current_user, requires
from server.campaigns.models import Campaign
from server.campaigns.services import campaign_of
from server.clock import app_clock
from server.errors import NotFound
from server.imports import scores, teams
from server.imports.base import ImportReport, Spec
from server.imports.downloads import table_download
from server.imports.schemas import ExportArgsSchema, ImportFormSchema, ImportReportSchema
from server.imports.uploads import import_typed, import_upload
from server.imports.writers import MIMETYPES
from server.pagination import PageArgsSchema, page_schema, paginate
from server.rounds import services
from server.rounds.models import Round, Team
from server.rounds.schemas import (EnteredResultsSchema, RoundCreateSchema, RoundDetailSchema, RoundSchema,
                                   RoundUpdateSchema)

blp = Blueprint("rounds", __name__, url_prefix="/api/v1", description="Inspection rounds and their teams")


@blp.get("/rounds")
@requires(Permission.READ_ROUNDS)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_schema(RoundSchema))
def list_rounds(args: dict[str, Any]) -> dict[str, Any]:
    stmt = sa.select(Round).where(rounds_condition(current_user()))
    return paginate(db.session(), stmt, Round.id, args)


@blp.get("/rounds/<int:round_id>")
@requires(Permission.READ_ROUNDS)
@blp.response(200, RoundDetailSchema)
def get_round(round_id: int) -> dict[str, Any]:
    user = current_user()
    found = db.session().scalar(
        sa.select(Round).where(Round.id == round_id, rounds_condition(user))
        .options(selectinload(Round.teams).selectinload(Team.members),
                 selectinload(Round.teams).selectinload(Team.assignments)))
    if found is None:
        raise NotFound(f"No round {round_id}.")
    # Team composition is internal to the inspectors: a liaison sees the round, not who comes.
    teams = [] if user.role is Role.LIAISON else found.teams
    return {**{name: getattr(found, name) for name in RoundSchema().fields}, "teams": teams}


# -- setting rounds up (the campaign's supervisors and admins) ---------------------------------

def _managed_round(round_id: int, action: str | None = None) -> Round:
    return services.managed_round(db.session(), current_user(), round_id, action)


@blp.post("/rounds")
@requires(Permission.MANAGE_ASSESSMENTS)
@blp.arguments(RoundCreateSchema)
@blp.response(201, RoundSchema)
def create_round(values: dict[str, Any]) -> Round:
    """Create a round scoring against a standard version (published by this if still a draft)."""
    session = db.session()
    campaign = campaign_of(session, current_user(), values.pop("campaign_id"), "round.create")
    standard = services.standard_for(session, campaign, standard_id=values.pop("standard_id"),
                                     code=values.pop("standard_code"))
    round_ = services.create_round(session, app_clock(), current_user(), campaign, standard, values)
    session.commit()
    return round_


@blp.patch("/rounds/<int:round_id>")
@requires(Permission.MANAGE_ASSESSMENTS)
@blp.arguments(RoundUpdateSchema)
@blp.response(200, RoundSchema)
def update_round(values: dict[str, Any], round_id: int) -> Round:
    """Change the name, mode, dates or status (planned → active → closed)."""
    session = db.session()
    round_ = services.update_round(session, app_clock(), current_user(), _managed_round(round_id, "round.update"), values)
    session.commit()
    return round_


def _import_into_round(spec: Spec, action: str, round_id: int, dry_run: bool) -> ImportReport:
    round_ = _managed_round(round_id, action)
    return import_upload(spec, campaign=db.session().get_one(Campaign, round_.campaign_id), target=round_,
                         dry_run=dry_run)


@blp.post("/rounds/<int:round_id>/teams/import")
@requires(Permission.MANAGE_ASSESSMENTS)
@blp.arguments(ImportFormSchema, location="form")
@blp.response(200, ImportReportSchema)
def import_teams(form: dict[str, Any], round_id: int) -> ImportReport:
    """Teams from a spreadsheet (multipart field ``file``): 检查组, 组长, 组员."""
    return _import_into_round(teams.TEAMS, "round.import_teams", round_id, form["dry_run"])


@blp.post("/rounds/<int:round_id>/assignments/import")
@requires(Permission.MANAGE_ASSESSMENTS)
@blp.arguments(ImportFormSchema, location="form")
@blp.response(200, ImportReportSchema)
def import_assignments(form: dict[str, Any], round_id: int) -> ImportReport:
    """Which team inspects which unit, from a spreadsheet (multipart field ``file``): 单位名称, 检查组."""
    return _import_into_round(teams.ASSIGNMENTS, "round.import_assignments", round_id, form["dry_run"])


@blp.post("/rounds/<int:round_id>/results/import")
@requires(Permission.MANAGE_ASSESSMENTS)
@blp.arguments(ImportFormSchema, location="form")
@blp.response(200, ImportReportSchema)
def import_results(form: dict[str, Any], round_id: int) -> ImportReport:
    """A score sheet (multipart field ``file``): 单位, 得分, 等次, 评议调整, 调整理由, 备注, 暂不排序原因.
    It replaces the results entered before."""
    return _import_into_round(scores.SPEC, "round.enter_results", round_id, form["dry_run"])


@blp.put("/rounds/<int:round_id>/results")
@requires(Permission.MANAGE_ASSESSMENTS)
@blp.arguments(EnteredResultsSchema)
@blp.response(200, ImportReportSchema)
def put_results(body: dict[str, Any], round_id: int) -> ImportReport:
    """Results typed in, checked as a score sheet's rows are; they replace the results entered before."""
    round_ = _managed_round(round_id, "round.enter_results")
    rows = [{name: value for name, value in row.items() if value is not None} for row in body["results"]]
    return import_typed(scores.SPEC, rows, campaign=db.session().get_one(Campaign, round_.campaign_id),
                        target=round_)


@blp.get("/rounds/<int:round_id>/teams/export")
@requires(Permission.MANAGE_ASSESSMENTS)
@blp.arguments(ExportArgsSchema, location="query")
@blp.doc(**file_response(MIMETYPES.values(), "The spreadsheet, as its import reads it back"))
def export_teams(args: dict[str, Any], round_id: int) -> Response:
    """The round's teams as a file its teams import reads back (XLSX, or CSV UTF-8)."""
    return _export(teams.team_rows, round_id, args["format"], "teams")


@blp.get("/rounds/<int:round_id>/assignments/export")
@requires(Permission.MANAGE_ASSESSMENTS)
@blp.arguments(ExportArgsSchema, location="query")
@blp.doc(**file_response(MIMETYPES.values(), "The spreadsheet, as its import reads it back"))
def export_assignments(args: dict[str, Any], round_id: int) -> Response:
    """The round's assignments as a file its assignments import reads back."""
    return _export(teams.assignment_rows, round_id, args["format"], "assignments")


@blp.get("/rounds/<int:round_id>/results/export")
@requires(Permission.MANAGE_ASSESSMENTS)
@blp.arguments(ExportArgsSchema, location="query")
@blp.doc(**file_response(MIMETYPES.values(), "The spreadsheet, as its import reads it back"))
def export_results(args: dict[str, Any], round_id: int) -> Response:
    """The results entered for the round as a score sheet its results import reads back (单位, 得分,
    等次, 评议调整, 调整理由, 备注, 暂不排序原因), unlike the report GET /rounds/{id}/score-sheet."""
    return _export(scores.result_rows, round_id, args["format"], "results")


def _export(rows: Callable[[Session, Round], list[list[object]]], round_id: int, fmt: str, kind: str) -> Response:
    round_ = _managed_round(round_id)
    return table_download(rows(db.session(), round_), fmt, title=kind, name=f"round-{round_.id}-{kind}")
