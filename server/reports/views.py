"""The assessment and report API: a round's configuration and scores, its circulars (draft →
edited → published), the score sheet, and bulletins for any period.

Supervisors and admins of the campaign do everything; a liaison or inspector may read a
published circular of a round they see, and nothing else here (404 for drafts, as for
circulars that do not exist).
"""

from __future__ import annotations

import io
from typing import Any

import sqlalchemy as sa
from flask import Response, current_app, send_file

from server import db
from server.api import Blueprint, file_response
from server.assessment import services as assessment
from server.assessment.models import Circular, CircularStatus, RankingExclusion, TierMethod
from server.assessment.results import RoundResult
from server.auth.models import Role, User
from server.auth.permissions import Permission, allowed
from server.auth.scope import rounds_condition
from server.auth.security import current_user, requires
from server.campaigns.models import Campaign
from server.clock import app_clock
from server.errors import NotFound, ValidationFailed
from server.reports import services
from server.reports.html_writer import write_html
from server.reports.schemas import (AssessmentConfigSchema, BulletinArgsSchema, BulletinSchema, CircularEditSchema,
                                    CircularHeaderSchema, CircularSchema, RoundResultSchema)
from server.rounds.models import Round
from server.units.models import Unit

blp = Blueprint("reports", __name__, url_prefix="/api/v1",
                description="Assessment (量化打分、排序、等次), circulars (通报), score sheets and bulletins (快报)")

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _round(round_id: int) -> Round:
    found = db.session().scalar(sa.select(Round).where(Round.id == round_id, rounds_condition(current_user())))
    if found is None:
        raise NotFound(f"No round {round_id}.")
    return found


def _circular(circular_id: int) -> Circular:
    """A circular the caller may see: staff any of their rounds', others published ones only."""
    user = current_user()
    stmt = (sa.select(Circular).join(Round, Round.id == Circular.round_id)
            .where(Circular.id == circular_id, rounds_condition(user)))
    if not allowed(user.role, Permission.MANAGE_REPORTS):
        stmt = stmt.where(Circular.status == CircularStatus.PUBLISHED)
    found = db.session().scalar(stmt)
    if found is None:
        raise NotFound(f"No circular {circular_id}.")
    return found


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=filename)


# python-docx and openpyxl load lxml and more; imported when a document is asked for, so
# building the app (every worker, every CLI command) does not pay for them.

def write_docx(*args: Any, **kwargs: Any) -> bytes:
    from server.reports.docx_writer import write_docx as write

    return write(*args, **kwargs)


def write_score_sheet(result: RoundResult) -> bytes:
    from server.reports.score_sheet import write_score_sheet as write

    return write(result)


def _config_view(round_id: int) -> dict[str, Any]:
    session = db.session()
    config = assessment.config_for(session, round_id)
    names = dict(session.execute(sa.select(Unit.id, Unit.name)
                                 .join(RankingExclusion, RankingExclusion.unit_id == Unit.id)
                                 .where(RankingExclusion.round_id == round_id)).all())
    return {"tier_method": config.tier_method, "tiers": config.tiers, "rank_by_group": config.rank_by_group,
            "groups": [{**g, "tier_method": TierMethod(g["tier_method"])} for g in config.group_tiers or []],
            "sources": config.sources or [],
            "order_deductions": config.order_deductions, "requirements": config.requirements,
            "closing": config.closing,
            "exclusions": [{"unit_id": e.unit_id, "reason": e.reason, "unit_name": names.get(e.unit_id, "")}
                           for e in assessment.exclusions_for(session, round_id)]}


# -- configuration and scores -----------------------------------------------------------------

@blp.get("/rounds/<int:round_id>/assessment")
@requires(Permission.MANAGE_REPORTS)
@blp.response(200, AssessmentConfigSchema)
def get_assessment(round_id: int) -> dict[str, Any]:
    """The round's tiers, quotas, exclusions (暂未排序) and 工作要求; defaults until set."""
    return _config_view(_round(round_id).id)


@blp.put("/rounds/<int:round_id>/assessment")
@requires(Permission.MANAGE_REPORTS)
@blp.arguments(AssessmentConfigSchema)
@blp.response(200, AssessmentConfigSchema)
def put_assessment(values: dict[str, Any], round_id: int) -> dict[str, Any]:
    """Change the fields given; ``exclusions`` replaces the whole list."""
    round_ = _round(round_id)
    session = db.session()
    assessment.update_config(session, app_clock(), round_, current_user(), values)
    session.commit()
    return _config_view(round_.id)


def _scores(round_id: int) -> RoundResult:
    return assessment.assess_round(db.session(), _round(round_id), app_clock().now())


@blp.get("/rounds/<int:round_id>/scores")
@requires(Permission.MANAGE_REPORTS)
@blp.response(200, RoundResultSchema)
def get_scores(round_id: int) -> RoundResult:
    """Every unit's score, rank and tier as of now; units not visited have no score."""
    return _scores(round_id)


@blp.get("/rounds/<int:round_id>/score-sheet")
@requires(Permission.MANAGE_REPORTS)
@blp.doc(**file_response(XLSX, "The score sheet (XLSX)"))
def get_score_sheet(round_id: int) -> Response:
    """The score sheet as XLSX, from the data as it is now."""
    return _download(write_score_sheet(_scores(round_id)), XLSX, f"score-sheet-round-{round_id}.xlsx")


# -- circulars --------------------------------------------------------------------------------

@blp.post("/rounds/<int:round_id>/circulars")
@requires(Permission.MANAGE_REPORTS)
@blp.arguments(CircularHeaderSchema)
@blp.response(201, CircularSchema)
def generate_circular(header: dict[str, Any] | None, round_id: int) -> Circular:
    """Generate the round's draft circular from the data (replacing an earlier draft's text; its
    文号, 主送, date and 版记 stay unless the body gives them)."""
    session = db.session()
    circular = services.generate(session, app_clock(), _round(round_id), current_user(), header=header,
                                 examples=current_app.config["REPORT_EXAMPLES_PER_CATEGORY"])
    session.commit()
    return circular


@blp.get("/rounds/<int:round_id>/circulars")
@requires(Permission.READ_REPORTS)
@blp.response(200, CircularSchema(many=True))
def list_circulars(round_id: int) -> list[Circular]:
    user: User = current_user()
    stmt = sa.select(Circular).where(Circular.round_id == _round(round_id).id)
    if not allowed(user.role, Permission.MANAGE_REPORTS):
        stmt = stmt.where(Circular.status == CircularStatus.PUBLISHED)
    return list(db.session().scalars(stmt.order_by(Circular.id)))


@blp.get("/circulars/<int:circular_id>")
@requires(Permission.READ_REPORTS)
@blp.response(200, CircularSchema)
def get_circular(circular_id: int) -> Circular:
    return _circular(circular_id)


@blp.put("/circulars/<int:circular_id>")
@requires(Permission.MANAGE_REPORTS)
@blp.arguments(CircularEditSchema)
@blp.response(200, CircularSchema)
def edit_circular(body: dict[str, Any], circular_id: int) -> Circular:
    """Replace a draft's text; 409 if it is published or changed since ``version``."""
    session = db.session()
    circular = services.edit(session, app_clock(), _circular(circular_id), current_user(), body["document"],
                             version=body["version"], max_chars=current_app.config["CIRCULAR_MAX_CHARS"])
    session.commit()
    return circular


@blp.post("/circulars/<int:circular_id>/publish")
@requires(Permission.MANAGE_REPORTS)
@blp.response(200, CircularSchema)
def publish_circular(circular_id: int) -> Circular:
    """Freeze the draft, dated today, with the data it was generated from."""
    session = db.session()
    circular = services.publish(session, app_clock(), _circular(circular_id), current_user())
    session.commit()
    return circular


@blp.get("/circulars/<int:circular_id>/docx")
@requires(Permission.READ_REPORTS)
@blp.doc(**file_response(DOCX, "The circular (DOCX)"))
def circular_docx(circular_id: int) -> Response:
    circular = _circular(circular_id)
    return _download(write_docx(circular.document, created=circular.published_at or circular.generated_at), DOCX,
                     f"circular-{circular.id}.docx")


@blp.get("/circulars/<int:circular_id>/html")
@requires(Permission.READ_REPORTS)
@blp.doc(**file_response("text/html", "The circular as a web page"))
def circular_html(circular_id: int) -> Response:
    return Response(write_html(_circular(circular_id).document), mimetype="text/html")


@blp.get("/circulars/<int:circular_id>/score-sheet")
@requires(Permission.MANAGE_REPORTS)
@blp.doc(**file_response(XLSX, "The score sheet (XLSX)"))
def circular_score_sheet(circular_id: int) -> Response:
    """The score sheet of the data the circular was generated from (frozen once published)."""
    circular = _circular(circular_id)
    return _download(write_score_sheet(services.snapshot_of(circular)), XLSX,
                     f"score-sheet-circular-{circular.id}.xlsx")


# -- bulletins --------------------------------------------------------------------------------

def _campaign(campaign_id: int | None) -> Campaign:
    user = current_user()
    if user.role is not Role.ADMIN:
        campaign_id = user.campaign_id
    elif campaign_id is None:
        ids = db.session().scalars(sa.select(Campaign.id).limit(2)).all()
        if len(ids) != 1:
            raise ValidationFailed("Name the campaign.", errors=[{"field": "query.campaign_id",
                                                                  "message": "required with several campaigns"}])
        campaign_id = ids[0]
    found = db.session().get(Campaign, campaign_id) if campaign_id is not None else None
    if found is None:
        raise NotFound(f"No campaign {campaign_id}.")
    return found


def _bulletin(args: dict[str, Any]):  # type: ignore[no-untyped-def]
    return services.bulletin_document(db.session(), app_clock(), _campaign(args["campaign_id"]), args["start"],
                                      args["end"], font=current_app.config["CHART_FONT"],
                                      max_units=current_app.config["BULLETIN_CHART_UNITS"])


@blp.get("/bulletins")
@requires(Permission.MANAGE_REPORTS)
@blp.arguments(BulletinArgsSchema, location="query")
@blp.response(200, BulletinSchema)
def get_bulletin(args: dict[str, Any]) -> Any:
    """Counts for the period ``start``–``end`` (days in the campaign's time zone, both included)."""
    return services.bulletin_counts(db.session(), app_clock(), _campaign(args["campaign_id"]), args["start"],
                                    args["end"])


@blp.post("/bulletins/issue")
@requires(Permission.MANAGE_REPORTS)
@blp.arguments(BulletinArgsSchema, location="query")
@blp.response(200, BulletinSchema)
def issue_bulletin(args: dict[str, Any]) -> Any:
    """Number the period's bulletin: the campaign's next 第N期, or the number it was issued with."""
    session = db.session()
    campaign = _campaign(args["campaign_id"])
    services.issue_bulletin(session, app_clock(), campaign, args["start"], args["end"], current_user())
    session.commit()
    return services.bulletin_counts(session, app_clock(), campaign, args["start"], args["end"])


@blp.get("/bulletins/docx")
@requires(Permission.MANAGE_REPORTS)
@blp.doc(**file_response(DOCX, "The bulletin (DOCX)"))
@blp.arguments(BulletinArgsSchema, location="query")
def bulletin_docx(args: dict[str, Any]) -> Response:
    _counts, document, figures = _bulletin(args)
    return _download(write_docx(document, figures), DOCX, f"bulletin-{args['start']}-{args['end']}.docx")


@blp.get("/bulletins/html")
@requires(Permission.MANAGE_REPORTS)
@blp.doc(**file_response("text/html", "The bulletin as a web page"))
@blp.arguments(BulletinArgsSchema, location="query")
def bulletin_html(args: dict[str, Any]) -> Response:
    _counts, document, figures = _bulletin(args)
    return Response(write_html(document, figures), mimetype="text/html")
