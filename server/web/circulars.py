"""A round's circulars (通报) in the console: generate the draft from the data, edit its header
and text, publish it; a published circular is read-only, as in the API.

The steps are the circular service's (:mod:`server.reports.services`), the same the API's
``POST /rounds/{id}/circulars``, ``PUT /circulars/{id}`` and ``POST /circulars/{id}/publish``
take; the document goes through the API's own schema first. Previews and downloads are the
API's (the console's cookie opens them): the HTML page, the DOCX, the score sheet.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response, current_app, flash, redirect, render_template, request, url_for

from server import db
from server.assessment.models import Circular, CircularStatus
from server.auth.permissions import Permission
from server.auth.scope import campaign_condition
from server.auth.security import current_user, requires
from server.clock import app_clock
from server.errors import Conflict, NotFound, ValidationFailed
from server.reports import services as reports
from server.reports.schemas import DocumentSchema
from server.rounds import services as rounds
from server.rounds.models import Round
from server.web import results_forms as forms
from server.web.text import text
from server.web.views import blp


def _circular(circular_id: int) -> tuple[Circular, Round]:
    found = db.session().execute(
        sa.select(Circular, Round).join(Round, Round.id == Circular.round_id)
        .where(Circular.id == circular_id, campaign_condition(current_user(), Round.campaign_id))).one_or_none()
    if found is None:
        raise NotFound(f"No circular {circular_id}.")
    return found.Circular, found.Round


@blp.get("/results/<int:round_id>/circulars")
@requires(Permission.MANAGE_REPORTS)
def round_circulars(round_id: int) -> str:
    session = db.session()
    round_ = rounds.managed_round(session, current_user(), round_id)
    circulars = session.scalars(sa.select(Circular).where(Circular.round_id == round_.id)
                                     .order_by(Circular.id.desc())).all()
    return render_template("web/results_circulars.html", round=round_, circulars=circulars,
                           draft=next((c for c in circulars if c.status is CircularStatus.DRAFT), None))


@blp.post("/results/<int:round_id>/circulars")
@requires(Permission.MANAGE_REPORTS)
def generate_circular(round_id: int) -> Response:
    """The draft written afresh from the data; the clerk's 文号, 主送, dates and 版记 stay."""
    session = db.session()
    round_ = rounds.managed_round(session, current_user(), round_id)
    circular = reports.generate(session, app_clock(), round_, current_user(),
                                examples=current_app.config["REPORT_EXAMPLES_PER_CATEGORY"])
    session.commit()
    flash(text("results.generated"))
    return redirect(url_for("web.circular_page", circular_id=circular.id))


def _page(circular: Circular, round_: Round, values: dict[str, str] | None = None,
          errors: dict[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    stored = forms.document_values(circular.document)
    on_fields, elsewhere = forms.placed(errors or {}, [*stored, "confirm"])
    return render_template("web/results_circular.html", circular=circular, round=round_, values=values or stored,
                           errors=on_fields, general=elsewhere, failed=bool(errors), fields=forms.HEADER_FIELDS,
                           published=circular.status is CircularStatus.PUBLISHED), status


@blp.get("/circulars/<int:circular_id>")
@requires(Permission.MANAGE_REPORTS)
def circular_page(circular_id: int) -> tuple[str, int]:
    return _page(*_circular(circular_id))


@blp.post("/circulars/<int:circular_id>")
@requires(Permission.MANAGE_REPORTS)
def edit_circular(circular_id: int) -> Response | tuple[str, int]:
    circular, round_ = _circular(circular_id)
    session = db.session()
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        raise ValidationFailed("The form names no version.", errors=[{"field": "version", "message": "required"}]) \
            from None
    try:
        document: Any = forms.load(DocumentSchema(), forms.document_body(request.form, circular.document))
        reports.edit(session, app_clock(), circular, current_user(), document, version=version,
                     max_chars=current_app.config["CIRCULAR_MAX_CHARS"])
    except ValidationFailed as exc:
        session.rollback()
        return _page(circular, round_, dict(request.form), forms.Paths().errors(exc), 422)
    except Conflict:
        if circular.status is CircularStatus.PUBLISHED:
            raise
        session.rollback()
        return _page(circular, round_, dict(request.form), {"version": text("results.stale_draft")}, 409)
    session.commit()
    flash(text("results.circular_saved"))
    return redirect(url_for("web.circular_page", circular_id=circular.id))


@blp.post("/circulars/<int:circular_id>/publish")
@requires(Permission.MANAGE_REPORTS)
def publish_circular(circular_id: int) -> Response | tuple[str, int]:
    """Freeze the draft as it reads, with the date the clerk set (today only when none is)."""
    circular, round_ = _circular(circular_id)
    if not request.form.get("confirm"):
        # Publishing cannot be undone: the clerk says they read it, not a stray click.
        return _page(circular, round_, errors={"confirm": text("results.publish_unconfirmed")}, status=422)
    session = db.session()
    reports.publish(session, app_clock(), circular, current_user())
    session.commit()
    flash(text("results.published"))
    return redirect(url_for("web.circular_page", circular_id=circular.id))
