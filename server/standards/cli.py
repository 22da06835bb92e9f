"""``xuncha standard list|publish|export``; ``xuncha import standard`` brings one in."""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from server.campaigns.cli import app_error


@click.group("standard")
def standard_command() -> None:
    """Standards (考核细则): list the versions, publish a draft, export one as a spreadsheet."""


def _find(session, campaign: str | None, code: str, version: int | None):  # type: ignore[no-untyped-def]
    from server.cli import _campaign
    from server.standards.models import Standard

    stmt = sa.select(Standard).where(Standard.campaign_id == _campaign(session, campaign).id, Standard.code == code)
    stmt = stmt.where(Standard.version == version) if version else stmt.order_by(Standard.version.desc()).limit(1)
    found = session.scalar(stmt)
    if found is None:
        raise click.ClickException(f"no standard {code}" + (f" version {version}" if version else ""))
    return found


@standard_command.command("list")
@click.option("--campaign", help="Campaign name (default: the only campaign).")
@with_appcontext
def list_command(campaign: str | None) -> None:
    """Every version of the campaign's standards."""
    from server.cli import _campaign, _session
    from server.standards.models import Standard

    with _session() as session:
        owner = _campaign(session, campaign)
        for s in session.scalars(sa.select(Standard).where(Standard.campaign_id == owner.id)
                                 .order_by(Standard.code, Standard.version)):
            state = f"published {s.published_at:%Y-%m-%d}" if s.published_at else "draft"
            click.echo(f"{s.id}\t{s.code}\tv{s.version}\t{state}\t{len(s.items)} items\t{s.name}")


@standard_command.command("publish")
@click.argument("code")
@click.option("--version", type=int, help="Default: the newest.")
@click.option("--campaign", help="Campaign name (default: the only campaign).")
@with_appcontext
def publish_command(code: str, version: int | None, campaign: str | None) -> None:
    """Publish a draft version of CODE: it never changes again; the next import makes a new version."""
    from server.cli import _clock, _session
    from server.errors import AppError
    from server.standards.services import publish

    with _session() as session:
        try:
            standard = publish(session, _clock(), None, _find(session, campaign, code, version))
        except AppError as exc:
            raise app_error(exc) from None
        session.commit()
        click.echo(f"standard {standard.code} version {standard.version} published")


@standard_command.command("export")
@click.argument("code")
@click.option("--version", type=int, help="Default: the newest.")
@click.option("--campaign", help="Campaign name (default: the only campaign).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="A .xlsx or .csv file; the format follows the suffix.")
@with_appcontext
def export_command(code: str, version: int | None, campaign: str | None, output: Path) -> None:
    """Write CODE's items as a spreadsheet that ``xuncha import standard`` reads back."""
    from server.cli import _session
    from server.standards.services import export

    from server.imports.writers import format_of

    fmt = format_of(output)
    if fmt is None:
        raise click.BadParameter("name a .xlsx or .csv file", param_hint="--output")
    with _session() as session:
        standard = _find(session, campaign, code, version)
        output.write_bytes(export(standard, fmt))
        click.echo(f"wrote {output}: standard {standard.code} version {standard.version}, {len(standard.items)} items")
