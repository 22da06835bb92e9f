"""Imports through the API: an uploaded file, or rows typed in, through the same engine as
``xuncha import``; a file with problems is refused whole with every problem listed."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Sequence

from flask import current_app, request
from werkzeug.datastructures import FileStorage

from server import db
from server.auth.security import current_user
from server.campaigns.models import Campaign
from server.clock import app_clock
from server.errors import ValidationFailed
from server.imports.base import ImportReport, Spec
from server.imports.services import import_file, import_rows

SUFFIXES = (".csv", ".xlsx", ".xlsm")


def uploaded_file() -> FileStorage:
    """The request's file (multipart field ``file``), checked to be one the readers read."""
    return checked_file(request.files.get("file"))


def checked_file(upload: FileStorage | None, suffixes: tuple[str, ...] = SUFFIXES) -> FileStorage:
    """The upload, if it is a file its reader takes (by its name's suffix)."""
    if upload is None or not upload.filename:
        raise ValidationFailed("Send the file as multipart/form-data in the field 'file'.",
                               errors=[{"field": "file", "message": "missing"}])
    if Path(upload.filename).suffix.lower() not in suffixes:
        raise ValidationFailed(f"Send a {', '.join(suffixes)} file (CSV in UTF-8).",
                               errors=[{"field": "file", "message": f"unsupported file {upload.filename!r}"}])
    return upload


def import_upload(spec: Spec, *, campaign: Campaign, target: Any = None, dry_run: bool = False) -> ImportReport:
    """Import the request's file into ``campaign``; commits unless it is a dry run."""
    upload = uploaded_file()
    with tempfile.TemporaryDirectory() as folder:
        # The readers go by the file's suffix, and the report names the file as the clerk sent it.
        path = Path(folder) / Path(upload.filename or "upload").name
        upload.save(path)
        return _refuse_problems(import_saved(spec, path, campaign=campaign, target=target, dry_run=dry_run))


def import_saved(spec: Spec, path: Path, *, campaign: Campaign, target: Any = None,
                 dry_run: bool = False) -> ImportReport:
    """Import a file kept on disk as the request's caller; commits unless it is a dry run or has
    problems (then nothing is written, and the report lists them all)."""
    report = import_file(db.session(), app_clock(), current_app.extensions["xuncha.hasher"], spec, path,
                         campaign=campaign, dry_run=dry_run, target=target, actor=current_user())
    settle(report)
    return report


def settle(report: ImportReport) -> None:
    """Commit what an import wrote; roll back a dry run, or an import with problems (it wrote nothing)."""
    session = db.session()
    if report.ok and not report.dry_run:
        session.commit()
    else:
        session.rollback()


def import_typed(spec: Spec, rows: Sequence[dict[str, Any]], *, campaign: Campaign, target: Any = None
                 ) -> ImportReport:
    report = import_rows(db.session(), app_clock(), current_app.extensions["xuncha.hasher"], spec, rows,
                         campaign=campaign, source="request", target=target, actor=current_user())
    settle(report)
    return _refuse_problems(report, typed=True)


def _refuse_problems(report: ImportReport, *, typed: bool = False) -> ImportReport:
    if not report.ok:
        what = "rows" if typed else f"file {report.source}"
        raise ValidationFailed(f"The {what} has {len(report.problems)} problem(s); nothing was imported.",
                               errors=[_error(p, typed) for p in report.problems])
    return report


def _error(problem: Any, typed: bool) -> dict[str, Any]:
    if typed:
        where = "rows" if problem.line is None else f"rows.{problem.line - 1}"
        field = f"{where}.{problem.column}" if problem.column else where
    else:
        field = f"line {problem.line}" if problem.line is not None else "file"
        field += f", {problem.column}" if problem.column else ""
    return {"field": field, "message": problem.message, "line": problem.line, "column": problem.column}
