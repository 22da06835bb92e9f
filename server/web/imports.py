"""Spreadsheets imported from the console: checked first, then imported on the clerk's confirm.

The check is a dry run of the import engine (server/imports/, the command line's and the API's):
it writes nothing and shows either what the import would do, with the file's first rows, or
every problem with its line and column, in Chinese (server/imports/messages.py). Only a file
without problems can be confirmed, and the confirm imports the very bytes checked, kept on the
server meanwhile (:mod:`server.web.staging`), so the clerk chooses the file once. A file with
any bad row imports nothing; importing the same file again changes nothing, and the page says
so (the import report's created / updated / unchanged).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import marshmallow as ma
from flask import Response, current_app, flash, redirect, render_template, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from server import db
from server.auth.permissions import Permission
from server.auth.security import authenticate_request, requires
from server.campaigns import services as campaigns
from server.campaigns.models import Campaign
from server.errors import NotFound, ValidationFailed
from server.imports import scores as score_file
from server.imports import standards as standard_file
from server.imports import teams as team_files
from server.imports import units as unit_file
from server.imports import users as users_file
from server.imports import zones as zone_file
from server.imports.base import ImportReport, Spec
from server.imports.readers import SourceRow, read_table
from server.imports.services import match_headers
from server.imports.uploads import import_saved, uploaded_file
from server.rounds import services as rounds
from server.rounds.models import Round
from server.standards.models import ScoringModel
from server.standards.schemas import StandardImportFormSchema
from server.web import forms, staging
from server.web.forms import said
from server.web.text import text
from server.web.views import blp

#: A check shows the file's first rows; past these, only the counts (a list of units runs long).
PREVIEW_ROWS = 20
#: The notes an import's confirm says; a units file naming many new groups says the first ones.
NOTES_SAID = 10
STANDARD_FIELDS = ("code", "name", "full_score", "scoring_model")
#: What the preview shows for a cell of a hidden column that is filled in.
HIDDEN = "••••••"
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Importable:
    spec: Spec
    #: The office's action (server.auth.scope.WRITES) the import is. None: any campaign the
    #: caller sees, each row judged on its own (a users file's, by manages_account).
    action: str | None
    #: What the file goes into, as the page's address names it: "campaigns" or "rounds".
    into: str
    #: The page that offers the file and shows its check, when it is not the office's import
    #: page (the results page offers the score sheet, the people pages the users file); a
    #: confirm returns there. None: the office's import page, and back to the campaign's or the
    #: round's page.
    page: str | None = None
    #: Columns whose cells the check's preview does not show: a page is no place for passwords.
    hidden: tuple[str, ...] = ()


IMPORTS = {
    "units": Importable(unit_file.SPEC, "unit.import", "campaigns"),
    "zones": Importable(zone_file.SPEC, "zone.import", "campaigns"),
    "standard": Importable(standard_file.SPEC, "standard.import", "campaigns"),
    "teams": Importable(team_files.TEAMS, "round.import_teams", "rounds"),
    "assignments": Importable(team_files.ASSIGNMENTS, "round.import_assignments", "rounds"),
    "scores": Importable(score_file.SPEC, "round.enter_results", "rounds", page="web.round_results"),
    "users": Importable(users_file.SPEC, None, "campaigns", page="web.people_import", hidden=("password",)),
}
_OFFICE_KINDS = ", ".join(kind for kind, importable in IMPORTS.items() if importable.page is None)
_PAGE = f"/office/<any(campaigns, rounds):into>/<int:ident>/import/<any({_OFFICE_KINDS}):kind>"


@dataclass(frozen=True)
class Where:
    campaign: Campaign
    round: Round | None
    #: The page a confirmed import returns to.
    back: str


@dataclass(frozen=True)
class Preview:
    headers: tuple[str, ...]
    rows: list[tuple[int, tuple[str, ...]]]
    total: int


@dataclass(frozen=True)
class Checked:
    """A file checked (or imported): the report, and for a file that may be confirmed, its first
    rows and the token naming it."""

    kind: str
    report: ImportReport
    #: What else the check's form said (a standard's code and name ...).
    details: dict[str, Any] = field(default_factory=dict)
    preview: Preview | None = None
    token: str | None = None

    def column(self, name: str | None) -> str:
        return column_label(IMPORTS[self.kind].spec, name)


def where_to(into: str, ident: int | None, kind: str) -> Where:
    """Where the import goes, if the caller may import this kind there (404 / 403 otherwise); a
    campaign not named is the caller's own, as :func:`campaigns.campaign_of` says."""
    importable = IMPORTS[kind]
    if importable.into != into:
        raise NotFound(f"No {kind} import into {into}.")
    session, user = db.session(), authenticate_request().user
    if into == "campaigns":
        campaign = campaigns.campaign_of(session, user, ident, importable.action)
        return Where(campaign, None, url_for(importable.page or "web.campaign_page", campaign_id=campaign.id))
    assert ident is not None and importable.action is not None
    round_ = rounds.managed_round(session, user, ident, importable.action)
    return Where(session.get_one(Campaign, round_.campaign_id), round_,
                 url_for(importable.page or "web.round_page", round_id=round_.id))


def _purpose(where: Where, kind: str) -> dict[str, Any]:
    into, ident = ("rounds", where.round.id) if where.round else ("campaigns", where.campaign.id)
    return {"user": authenticate_request().user.id, "import": kind, "into": into, "id": ident}


def check(kind: str, where: Where, details: dict[str, Any] | None = None) -> Checked:
    """The dry run of the request's file (``file``; :class:`ValidationFailed` without one): every
    problem, or what it would do with its first rows, the file then kept for the confirm."""
    details = details or {}
    staged = staging.stage(uploaded_file(), purpose=_purpose(where, kind), details=details)
    report = import_saved(IMPORTS[kind].spec, staged.path, campaign=where.campaign,
                          target=_target(kind, where, details), dry_run=True)
    if not report.ok:
        staging.discard(staged)  # nothing to confirm: the clerk mends the file and checks it again
        return Checked(kind, report, details)
    return Checked(kind, report, details, _preview(staged, IMPORTS[kind]), staged.token)


def confirm(kind: str, where: Where) -> Checked:
    """Import the file the form's token names, as checked, with the check's details; when it went
    through, what changed is flashed for the page the clerk sees next. :class:`staging.Gone`
    when the token names no file this caller may import here now — so a confirm answers once,
    and a page showing what it made up (a users file's passwords) is never shown again."""
    staged = staging.take(request.form.get("token", ""), purpose=_purpose(where, kind))
    report = import_saved(IMPORTS[kind].spec, staged.path, campaign=where.campaign,
                          target=_target(kind, where, staged.details))
    staging.discard(staged)
    if report.ok:
        flash(text("setup.import.done", file=report.source, created=report.created, updated=report.updated,
                   unchanged=report.unchanged))
        for note in report.notes[:NOTES_SAID]:
            flash(said(note))
    # Problems now mean the campaign changed since the check (a unit renamed ...): nothing was written.
    return Checked(kind, report, staged.details)


@blp.get(_PAGE)
@requires(Permission.MANAGE_ASSESSMENTS)
def import_page(into: str, ident: int, kind: str) -> str:
    where = where_to(into, ident, kind)
    # A standard's page offers its next version: the form comes filled in with its code and name.
    form = {name: request.args.get(name, "") for name in STANDARD_FIELDS}
    return _page(kind, where, form=form)


@blp.post(_PAGE)
@requires(Permission.MANAGE_ASSESSMENTS)
def import_check(into: str, ident: int, kind: str) -> tuple[str, int]:
    where = where_to(into, ident, kind)
    form = forms.given(STANDARD_FIELDS)
    try:
        checked = check(kind, where, _details(kind, form))
    except ma.ValidationError as exc:
        return _page(kind, where, form=form, errors=forms.refusal(exc)[0]), 422
    except ValidationFailed:
        return _page(kind, where, form=form, errors=[(text("setup.field.file"), text("setup.import.choose_file"))]), 422
    return _page(kind, where, form=form, checked=checked), 200 if checked.report.ok else 422


@blp.post(_PAGE + "/confirm")
@requires(Permission.MANAGE_ASSESSMENTS)
def import_confirm(into: str, ident: int, kind: str) -> Response | tuple[str, int]:
    where = where_to(into, ident, kind)
    try:
        checked = confirm(kind, where)
    except staging.Gone:
        return _page(kind, where, form={}, errors=[("", text("setup.import.gone"))]), 410
    if not checked.report.ok:
        return _page(kind, where, form=checked.details, checked=checked), 422
    return redirect(where.back)


@blp.errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge) -> tuple[str, int]:
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    size = f"{limit / 2**20:.0f} MB" if limit >= 2**20 else f"{limit / 2**10:.0f} KB"
    return render_template("web/error.html", status=413, message=text("setup.import.too_large", size=size)), 413


def _details(kind: str, form: dict[str, str]) -> dict[str, Any]:
    """What the standard's form adds to its file, through the API's schema; nothing for the others."""
    if kind != "standard":
        return {}
    values = StandardImportFormSchema().load(form, unknown=ma.EXCLUDE)
    return {"code": values["code"], "name": values["name"], "full_score": str(values["full_score"] or Decimal(100)),
            "scoring_model": values["scoring_model"].value}


def _target(kind: str, where: Where, details: dict[str, Any]) -> Any:
    if kind == "standard":
        return standard_file.StandardTarget(code=details["code"], name=details["name"],
                                            full_score=Decimal(details["full_score"]),
                                            scoring_model=ScoringModel(details["scoring_model"]))
    return where.round


def _preview(staged: staging.Staged, importable: Importable) -> Preview:
    table = read_table(staged.path)
    # Excel often carries empty, formatted columns past the last real one: they are not shown.
    width = max((i + 1 for i, header in enumerate(table.headers) if header), default=0)
    positions = match_headers(importable.spec.columns, table.headers)[0]
    hidden = {positions[name] for name in importable.hidden if name in positions}
    rows = [(row.line, _cells(row, width, hidden)) for row in table.rows[:PREVIEW_ROWS]]
    return Preview(table.headers[:width], rows, len(table.rows))


def _cells(row: SourceRow, width: int, hidden: set[int]) -> tuple[str, ...]:
    cells = tuple(row.cells[:width]) + ("",) * (width - len(row.cells))
    return tuple(HIDDEN if i in hidden and cell else cell for i, cell in enumerate(cells))


def _page(kind: str, where: Where, *, form: dict[str, Any], errors: list[tuple[str, str]] | None = None,
          checked: Checked | None = None) -> str:
    address = {"into": IMPORTS[kind].into, "ident": where.round.id if where.round else where.campaign.id, "kind": kind}
    return render_template("web/setup_import.html", kind=kind, where=where, form=form, errors=errors or [],
                           checked=checked, columns=IMPORTS[kind].spec.columns, models=list(ScoringModel),
                           action=url_for("web.import_check", **address),
                           confirm=url_for("web.import_confirm", **address))


blp.add_app_template_filter(said, "said")


def column_label(spec: Spec, column: str | None) -> str:
    """A problem's column as a clerk knows it: the file's header, or for a column named by its
    canonical (English) name, a missing one, its Chinese name."""
    if not column:
        return "—"
    for candidate in spec.columns:
        if column == candidate.name:
            return next((alias for alias in candidate.aliases if _CJK.search(alias)), column)
    return column

