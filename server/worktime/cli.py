"""``xuncha holidays load|show``: the yearly official schedule from the command line."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from server.errors import AppError
from server.worktime import services
from server.worktime.files import located, read_schedule_file

#: Exit status when the file has problems, as for ``xuncha import``.
EXIT_BAD_FILE = 2


@click.group("holidays")
def holidays_command() -> None:
    """The working-day calendar: load and show each year's holiday schedule (放假安排)."""


@holidays_command.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--year", type=int, required=True, help="The year the schedule is for.")
@click.option("--source", help="Where it comes from, e.g. the notice's title (default: the file's, or its name).")
@with_appcontext
def load_command(file: Path, year: int, source: str | None) -> None:
    """Load a year's official schedule from FILE (.csv, .xlsx or .json); it replaces any loaded before."""
    from server.cli import _clock, _session
    from server.orders.rescheduling import load_schedule

    parsed = read_schedule_file(file)
    if parsed.problems:
        _fail(file, parsed.problems)
    with _session() as session:
        try:
            _loaded, rescheduled = load_schedule(session, _clock(), year, parsed.days, actor_id=None,
                                                 source=source or parsed.source or file.name)
        except AppError as exc:
            _fail(file, [located(problem, parsed.places) for problem in exc.errors or [{"message": str(exc)}]])
        session.commit()
        report = services.year_report(session, current_app.config, year)
    click.echo(f"{year}: {len(report.days_off)} days off and {len(report.make_up_days)} make-up working days "
               f"loaded from {file.name}; the year is confirmed")
    if rescheduled.confirmed:
        click.echo(f"{rescheduled.confirmed} provisional deadlines confirmed, {rescheduled.moved} moved "
                   "(their units were notified)")


@holidays_command.command("show")
@click.option("--year", type=int, required=True)
@with_appcontext
def show_command(year: int) -> None:
    """Print the year's days off and make-up working days, and whether the year is confirmed."""
    from server.cli import _session

    with _session() as session:
        try:
            report = services.year_report(session, current_app.config, year)
        except AppError as exc:
            raise click.ClickException("; ".join(p["message"] for p in exc.errors or []) or str(exc)) from exc
    if report.confirmed:
        status = f"confirmed ({report.origin}: {report.reference})"
    else:
        status = (f"provisional: the official schedule is not known yet, deadlines crossing {year} may move "
                  f"({report.reference} estimate; load it with 'xuncha holidays load FILE --year {year}')")
    click.echo(f"{year}: {status}")
    click.echo(f"days off ({len(report.days_off)}):")
    for line in services.describe_days(report.days_off):
        click.echo(f"  {line}")
    click.echo(f"make-up working days ({len(report.make_up_days)}):")
    for line in services.describe_days(report.make_up_days):
        click.echo(f"  {line}")


def _fail(file: Path, problems: list[str]) -> None:
    click.echo(f"{file.name}: {len(problems)} problem(s); nothing was loaded", err=True)
    for problem in problems:
        click.echo(f"  {problem}", err=True)
    click.get_current_context().exit(EXIT_BAD_FILE)
