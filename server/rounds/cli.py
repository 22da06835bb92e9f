"""``xuncha round create|update|list``: rounds (平时检查, 暗访, 专项, 季度, 年度) of a campaign."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from server.campaigns.cli import DATE, _values, app_error


def find_round(session, ref: str):  # type: ignore[no-untyped-def]
    """A round by id, or by name when no two campaigns share it."""
    from server.rounds.models import Round

    if ref.isdigit():
        found = session.get(Round, int(ref))
        if found is None:
            raise click.ClickException(f"no round {ref}")
        return found
    rounds = session.scalars(sa.select(Round).where(Round.name == ref)).all()
    if len(rounds) != 1:
        raise click.ClickException(f"no round named {ref!r}" if not rounds else
                                   f"several campaigns have a round named {ref!r}; give its id")
    return rounds[0]


def _modes() -> list[str]:
    from server.rounds.services import MODE_NAMES

    return list(MODE_NAMES)


@click.group("round")
def round_command() -> None:
    """Rounds: create one against a standard, change its dates and status, list them."""


@round_command.command("create")
@click.argument("name")
@click.option("--mode", required=True, type=click.Choice(_modes()),
              help="open/平时检查, unannounced/暗访, recheck/复查, quarterly/季度考核, special/专项, annual/年度考核.")
@click.option("--starts", "starts_on", type=DATE, required=True, help="First day (YYYY-MM-DD).")
@click.option("--ends", "ends_on", type=DATE, required=True, help="Last day (YYYY-MM-DD).")
@click.option("--standard", "standard_code", required=True, help="Standard code; its newest version is used.")
@click.option("--status", type=click.Choice(["planned", "active", "closed"]), default="planned", show_default=True)
@click.option("--campaign", help="Campaign name (default: the only campaign).")
@with_appcontext
def create_command(name: str, mode: str, standard_code: str, status: str, campaign: str | None,
                   **dates: Any) -> None:
    """Create the round NAME; a draft standard version is published by it."""
    from server.cli import _campaign, _clock, _session
    from server.errors import AppError
    from server.rounds import services
    from server.rounds.models import RoundStatus

    values = {"name": name, "mode": services.MODE_NAMES[mode], "status": RoundStatus(status), **_values(**dates)}
    with _session() as session:
        try:
            owner = _campaign(session, campaign)
            standard = services.standard_for(session, owner, code=standard_code)
            round_ = services.create_round(session, _clock(), None, owner, standard, values)
        except AppError as exc:
            raise app_error(exc) from None
        session.commit()
        click.echo(f"round {round_.id} {round_.name} ({round_.mode.value}, {round_.status.value}), "
                   f"standard {standard.code} version {standard.version}")


@round_command.command("update")
@click.argument("round_ref", metavar="ROUND")
@click.option("--rename", "name", help="A new name.")
@click.option("--mode", type=click.Choice(_modes()))
@click.option("--starts", "starts_on", type=DATE)
@click.option("--ends", "ends_on", type=DATE)
@click.option("--status", type=click.Choice(["planned", "active", "closed"]),
              help="active: inspectors see their units; closed: the round is over.")
@with_appcontext
def update_command(round_ref: str, mode: str | None, status: str | None, **options: Any) -> None:
    """Change ROUND (its id or name)."""
    from server.cli import _clock, _session
    from server.errors import AppError
    from server.rounds import services
    from server.rounds.models import RoundStatus

    values = _values(**options)
    if mode:
        values["mode"] = services.MODE_NAMES[mode]
    if status:
        values["status"] = RoundStatus(status)
    with _session() as session:
        try:
            round_ = services.update_round(session, _clock(), None, find_round(session, round_ref), values)
        except AppError as exc:
            raise app_error(exc) from None
        session.commit()
        click.echo(f"round {round_.id} {round_.name} ({round_.mode.value}, {round_.status.value}, "
                   f"{round_.starts_on}–{round_.ends_on})")


@round_command.command("list")
@click.option("--campaign", help="Campaign name (default: the only campaign).")
@with_appcontext
def list_command(campaign: str | None) -> None:
    """List the campaign's rounds with their teams and units."""
    from server.cli import _campaign, _session
    from server.rounds.models import Assignment, Round, Team

    with _session() as session:
        owner = _campaign(session, campaign)
        for round_ in session.scalars(sa.select(Round).where(Round.campaign_id == owner.id).order_by(Round.id)):
            teams = session.scalar(sa.select(sa.func.count()).select_from(Team).where(Team.round_id == round_.id))
            units = session.scalar(sa.select(sa.func.count()).select_from(Assignment)
                                   .where(Assignment.round_id == round_.id))
            click.echo(f"{round_.id}\t{round_.name}\t{round_.mode.value}\t{round_.status.value}\t"
                       f"{round_.starts_on}–{round_.ends_on}\t{teams} teams\t{units} units")


@round_command.command("export")
@click.argument("round_ref", metavar="ROUND")
@click.argument("kind", type=click.Choice(["teams", "assignments", "scores"]))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="A .xlsx or .csv file; the format follows the suffix.")
@with_appcontext
def export_command(round_ref: str, kind: str, output: Path) -> None:
    """Write ROUND's teams, assignments or entered results (a score sheet) as the file
    'xuncha import' reads back."""
    from server.cli import _session
    from server.imports import scores, teams
    from server.imports.cli import write_export

    rows = {"teams": teams.team_rows, "assignments": teams.assignment_rows, "scores": scores.result_rows}[kind]
    with _session() as session:
        written = rows(session, find_round(session, round_ref))
    write_export(output, written, kind)
