"""The import engine: read, validate every row, then write all of it in one go or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Sequence

from argon2 import PasswordHasher
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.audit.models import ActorKind
from server.audit.services import record as audit
from server.campaigns.models import Campaign
from server.clock import Clock
from server.imports import scores, standards, teams, units, users, zones
from server.imports.base import Column, Context, ImportReport, Invalid, Problem, Record, Spec
from server.imports.messages import say
from server.imports.readers import ReadError, SourceRow, read_table

SPECS: dict[str, Spec] = {spec.kind: spec for spec in (units.SPEC, zones.SPEC, users.SPEC)}
#: Files imported into something besides the campaign (a round, a standard): the target is passed along.
TARGETED: dict[str, Spec] = {spec.kind: spec for spec in (standards.SPEC, teams.TEAMS, teams.ASSIGNMENTS,
                                                          scores.SPEC)}


#: Columns any file may have and every import skips.
IGNORED_HEADERS = frozenset({"序号", "no.", "#"})


def import_file(session: Session, clock: Clock, hasher: PasswordHasher, spec: Spec, path: Path, *,
                campaign: Campaign, dry_run: bool = False, target: Any = None, actor: Any = None) -> ImportReport:
    """Import ``path``; on any problem nothing is written and the report lists them all.

    Writes are flushed, not committed: the caller owns the transaction. A dry run
    writes inside a savepoint and rolls it back, so its counts are the real ones.
    A write the database refuses all the same (a concurrent import) becomes a problem too.
    ``actor``: the user importing (the API, the console), whose rights a spec may check per row
    and whom the audit trail names; None for the command line.
    """
    report = ImportReport(kind=spec.kind, source=path.name, campaign=campaign.name, dry_run=dry_run)
    context = Context(session=session, clock=clock, campaign=campaign, hasher=hasher, report=report, target=target,
                      actor=actor)
    records = _validate(context, spec, path)
    if report.ok:
        _write(context, spec, records)
    return report


def import_rows(session: Session, clock: Clock, hasher: PasswordHasher, spec: Spec, rows: Sequence[dict[str, Any]],
                *, campaign: Campaign, source: str, target: Any = None, actor: Any = None) -> ImportReport:
    """Import rows typed through the API (canonical column names to text) exactly as a file's
    rows would be: the same parsers and checks, problems numbered by row from 1."""
    report = ImportReport(kind=spec.kind, source=source, campaign=campaign.name)
    context = Context(session=session, clock=clock, campaign=campaign, hasher=hasher, report=report, target=target,
                      actor=actor)
    known = {column.name for column in spec.columns}
    present = [column.name for column in spec.columns if any(column.name in row for row in rows)]
    for index, row in enumerate(rows, start=1):
        report.problems.extend(Problem(index, name, say("unknown_field")) for name in row if name not in known)
    headers = {name: name for name in present}
    positions = {name: index for index, name in enumerate(present)}
    for column in spec.columns:
        if column.required and column.name not in positions:
            report.problems.append(Problem(None, column.name, say("required_field")))
    if report.problems:
        return report
    table_rows = [SourceRow(index, tuple(_typed(row.get(name)) for name in present))
                  for index, row in enumerate(rows, start=1)]
    records = [_parse_row(spec.columns, positions, headers, row, report.problems) for row in table_rows]
    _check(context, spec, headers, records)
    if report.ok:
        _write(context, spec, records)
    return report


def _typed(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _write(context: Context, spec: Spec, records: list[Record]) -> None:
    # Always in a savepoint: a dry run rolls it back, and so does a database refusal,
    # leaving the caller's transaction as it was.
    session, report = context.session, context.report
    savepoint = session.begin_nested()
    try:
        report.count(spec.apply(context, records))
        by = ({"actor_kind": ActorKind.USER, "actor_id": context.actor.id} if context.actor is not None
              else {"actor_kind": ActorKind.SYSTEM})
        audit(session, context.clock, f"import.{spec.kind}", **by, entity="campaign",
              entity_id=context.campaign.id, data={"file": report.source, "rows": len(records),
                                                   "created": report.created, "updated": report.updated,
                                                   "unchanged": report.unchanged})
        session.flush()
    except IntegrityError as exc:
        savepoint.rollback()
        # Validation saw the database as it was; another import may have written since.
        detail = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
        report.problems.append(Problem(None, None, say("database_refused", detail=detail)))
        report.created = report.updated = report.unchanged = 0
        report.notes.clear()
        report.generated_passwords.clear()
        return
    if not report.dry_run:
        savepoint.commit()
        return
    savepoint.rollback()
    if report.generated_passwords:
        # Nothing was stored, so there is no account these passwords would open.
        report.notes.append(say("note.passwords_would_be_generated", count=len(report.generated_passwords)))
        report.generated_passwords.clear()


def _validate(context: Context, spec: Spec, path: Path) -> list[Record]:
    report = context.report
    try:
        table = read_table(path)
    except ReadError as exc:
        report.problems.append(Problem(None, None, exc.message))
        return []
    positions, headers, header_problems = match_headers(spec.columns, table.headers)
    if header_problems:
        # Rows read against the wrong columns would only add noise to the real mistake.
        report.problems.extend(header_problems)
        return []
    records = [_parse_row(spec.columns, positions, headers, row, report.problems) for row in table.rows]
    _check(context, spec, headers, records)
    return records


def _check(context: Context, spec: Spec, headers: dict[str, str], records: list[Record]) -> None:
    report = context.report
    report.problems.extend(_duplicates(spec, records))
    report.problems.extend(spec.check(context, records))
    report.problems.sort(key=lambda p: (p.line or 0, _column_order(spec, headers, p.column)))


def match_headers(columns: Sequence[Column], headers: Iterable[str]
                  ) -> tuple[dict[str, int], dict[str, str], list[Problem]]:
    """Where each column is (by canonical name), how the file spells it, and what is wrong."""
    by_label = {_normal(label): column for column in columns for label in (column.name, *column.aliases)}
    positions: dict[str, int] = {}
    spelled: dict[str, str] = {}
    problems = []
    for index, header in enumerate(headers):
        if not header:
            continue  # Excel often carries empty, formatted columns past the last real one
        if _normal(header) in IGNORED_HEADERS:
            # A clerk's list numbers its rows (序号), which says nothing the line number does not.
            # Kept among the positions (under a name no column has) so its cells are not strays.
            positions[f"({header})"] = index
            continue
        column = by_label.get(_normal(header))
        if column is None:
            problems.append(Problem(1, header, say("unknown_column")))
        elif column.name in positions:
            problems.append(Problem(1, header, say("column_twice", column=column.name, spelled=spelled[column.name])))
        else:
            positions[column.name] = index
            spelled[column.name] = header
    for column in columns:
        if column.required and column.name not in positions:
            problems.append(Problem(1, column.name, say("missing_column", names=column.describe())))
    if any(getattr(problem.message, "key", None) == "unknown_column" for problem in problems):
        known = "; ".join(column.describe() for column in columns)
        problems.append(Problem(1, None, say("known_columns", columns=known)))
    return positions, spelled, problems


def _normal(label: str) -> str:
    return label.strip().casefold().replace(" ", "_").replace("-", "_")


def _parse_row(columns: Sequence[Column], positions: dict[str, int], headers: dict[str, str],
               row: SourceRow, problems: list[Problem]) -> Record:
    rec = Record(line=row.line, headers=headers)
    named = set(positions.values())
    for index, raw in enumerate(row.cells):
        if raw and index not in named:
            # Most often an unquoted comma in a CSV cell, which shifts every cell after it.
            problems.append(Problem(row.line, f"#{index + 1}", say("stray_cell")))
    for column in columns:
        if column.name not in positions:
            continue
        index = positions[column.name]
        raw = row.cells[index] if index < len(row.cells) else ""
        if not raw:
            if column.required:
                problems.append(rec.problem(column.name, say("empty")))
            else:
                rec.values[column.name] = ""
            continue
        try:
            rec.values[column.name] = column.convert(raw)
        except Invalid as exc:
            problems.append(rec.problem(column.name, exc.message))
    return rec


def _duplicates(spec: Spec, records: list[Record]) -> list[Problem]:
    problems = []
    for name in spec.unique:
        first_line: dict[object, int] = {}
        for rec in records:
            value = rec.values.get(name)
            if not value:
                continue
            if value in first_line:
                problems.append(rec.problem(name, say("duplicate", column=name, value=value,
                                                      first=first_line[value], line=rec.line)))
            else:
                first_line[value] = rec.line
    return problems


def _column_order(spec: Spec, headers: dict[str, str], column: str | None) -> int:
    if column is None:
        return len(spec.columns)  # a remark on the whole line comes after its cells
    for position, spec_column in enumerate(spec.columns):
        if column in (spec_column.name, headers.get(spec_column.name)):
            return position
    return -1
