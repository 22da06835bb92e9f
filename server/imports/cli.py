"""``xuncha import units|zones|users FILE``: the admin's way to load a campaign's reference data."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from server.imports.base import ImportReport

#: Exit status when the file has problems; 1 stays for usage mistakes such as an unknown campaign.
EXIT_BAD_FILE = 2

_HELP = {
    "units": "Import units (被考核单位) with their group, parent unit and liaison.",
    "zones": "Import responsibility zones (责任区) with GeoJSON outlines.",
    "users": "Import user accounts (admins, supervisors, inspectors, liaisons).",
}


@click.group("import")
def import_command() -> None:
    """Import units, zones or users from a CSV (UTF-8) or XLSX file.

    The header row names the columns, in English or Chinese. A file with any bad row
    imports nothing; importing the same file again changes nothing.
    """


def _add_subcommand(kind: str) -> None:
    @import_command.command(kind, help=_HELP[kind])
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--campaign", help="Campaign name (default: the only campaign).")
    @click.option("--dry-run", is_flag=True, help="Check the file and count the changes, writing nothing.")
    @with_appcontext
    def command(file: Path, campaign: str | None, dry_run: bool) -> None:
        _run(kind, file, campaign, dry_run)


for _kind in _HELP:
    _add_subcommand(_kind)


def _run(kind: str, file: Path, campaign_name: str | None, dry_run: bool) -> None:
    from server.cli import _campaign, _clock, _session
    from server.imports.services import SPECS, import_file

    with _session() as session:
        campaign = _campaign(session, campaign_name)
        report = import_file(session, _clock(), current_app.extensions["xuncha.hasher"], SPECS[kind], file,
                             campaign=campaign, dry_run=dry_run)
        if report.ok and not dry_run:
            session.commit()
    _print(report)
    if not report.ok:
        click.get_current_context().exit(EXIT_BAD_FILE)


def _print(report: ImportReport) -> None:
    if not report.ok:
        click.echo(f"{report.source}: {len(report.problems)} problem(s); nothing was imported", err=True)
        for problem in report.problems:
            click.echo(f"  {problem}", err=True)
        return
    click.echo(f"{report.kind} from {report.source} into campaign {report.campaign}: "
               f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged"
               + (" (dry run: nothing was written)" if report.dry_run else ""))
    for note in report.notes:
        click.echo(f"  {note}")
    if report.generated_passwords:
        click.echo("Generated passwords, shown only this once; hand them over privately:")
        for username, password in report.generated_passwords.items():
            click.echo(f"  {username}\t{password}")
