"""``xuncha import KIND FILE``: the office's way to load a campaign's lists from its spreadsheets:
units, zones and users into the campaign; a standard's items; a round's teams, assignments and
score sheet."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any, Sequence

import click
from flask import current_app
from flask.cli import with_appcontext

from server.imports.base import ImportReport
from server.imports.writers import format_of, table_bytes

#: Exit status when the file has problems; 1 stays for usage mistakes such as an unknown campaign.
EXIT_BAD_FILE = 2

_HELP = {
    "units": "Import units (被考核单位) with their group, parent unit and liaison.",
    "zones": "Import responsibility zones (责任区) with GeoJSON outlines.",
    "users": "Import user accounts (admins, supervisors, inspectors, liaisons).",
}

_ROUND_HELP = {
    "teams": "Import a round's teams (检查组, 组长, 组员).",
    "assignments": "Import which team inspects which unit in a round (单位名称, 检查组).",
    "scores": "Import a round's score sheet (单位, 得分, 等次, 评议调整, 调整理由, 备注, 暂不排序原因); "
              "it replaces the results entered before.",
}


@click.group("import")
def import_command() -> None:
    """Import units, zones, users, a standard, or a round's teams, assignments and scores
    from a CSV (UTF-8) or XLSX file.

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


def _add_round_subcommand(kind: str) -> None:
    @import_command.command(kind, help=_ROUND_HELP[kind])
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--round", "round_ref", required=True, help="The round's id or name.")
    @click.option("--dry-run", is_flag=True, help="Check the file and count the changes, writing nothing.")
    @with_appcontext
    def command(file: Path, round_ref: str, dry_run: bool) -> None:
        from server.campaigns.models import Campaign
        from server.cli import _session
        from server.rounds.cli import find_round

        with _session() as session:
            round_ = find_round(session, round_ref)
            _run(kind, file, session.get_one(Campaign, round_.campaign_id).name, dry_run, target=round_,
                 session=session)


for _kind in _ROUND_HELP:
    _add_round_subcommand(_kind)


@import_command.command("standard")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--code", required=True, help="The standard's code, e.g. 2008-XB; the same code makes versions.")
@click.option("--name", required=True, help="Its title, e.g. 2008年下半年双创工作目标任务考核细则.")
@click.option("--full-score", type=click.FloatRange(min=1, max=10000), default=100.0, show_default=True)
@click.option("--model", type=click.Choice(["deduction", "weighted"]), default="deduction", show_default=True,
              help="deduction: 扣分制 from the full score; weighted: items earn points by weight.")
@click.option("--campaign", help="Campaign name (default: the only campaign).")
@click.option("--dry-run", is_flag=True, help="Check the file, writing nothing.")
@with_appcontext
def standard_command(file: Path, code: str, name: str, full_score: float, model: str, campaign: str | None,
                     dry_run: bool) -> None:
    """Import a standard (考核细则): one item a row, grouped by 项目. A draft version is replaced;
    once published, the file makes the next version."""
    from decimal import Decimal

    from server.imports.standards import StandardTarget
    from server.standards.models import ScoringModel

    if any(ch.isspace() for ch in code):
        raise click.BadParameter("no spaces", param_hint="--code")
    target = StandardTarget(code=code, name=name, full_score=Decimal(str(full_score)).quantize(Decimal("0.01")),
                            scoring_model=ScoringModel(model))
    _run("standard", file, campaign, dry_run, target=target)


def _run(kind: str, file: Path, campaign_name: str | None, dry_run: bool, *, target: Any = None,
         session: Any = None) -> None:
    from server.cli import _campaign, _clock, _session
    from server.imports.services import SPECS, TARGETED, import_file

    with _session() if session is None else nullcontext(session) as session:
        campaign = _campaign(session, campaign_name)
        report = import_file(session, _clock(), current_app.extensions["xuncha.hasher"],
                             SPECS.get(kind) or TARGETED[kind], file, campaign=campaign, dry_run=dry_run,
                             target=target)
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


def write_export(output: Path, rows: Sequence[Sequence[object]], kind: str) -> None:
    """Write an export command's list (header first) to ``output``, in the format its suffix names."""
    fmt = format_of(output)
    if fmt is None:
        raise click.BadParameter("name a .xlsx or .csv file", param_hint="--output")
    output.write_bytes(table_bytes(rows, fmt, title=kind))
    click.echo(f"wrote {output}: {len(rows) - 1} {kind}")
