"""``xuncha campaign create|update|list|export``: a campaign and its assessment groups, from an
empty database, and its units and users written back as the files their imports read."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

DATE = click.DateTime(["%Y-%m-%d"])


def app_error(exc: Exception) -> click.ClickException:
    details = "; ".join(f"{e['field']}: {e['message']}" for e in getattr(exc, "errors", None) or [])
    return click.ClickException(details or str(exc))


def _values(**given: Any) -> dict[str, Any]:
    values = {name: value for name, value in given.items() if value not in (None, ())}
    for name in ("starts_on", "ends_on"):
        if isinstance(values.get(name), dt.datetime):
            values[name] = values[name].date()
    if "groups" in values:
        values["groups"] = list(values["groups"])
    return values


@click.group("campaign")
def campaign_command() -> None:
    """Campaigns (双创 / 创卫 / 创文) and their assessment groups (考核组别)."""


@campaign_command.command("create")
@click.argument("name")
@click.option("--office", help="The issuing office named in circulars, e.g. 市双创办.")
@click.option("--timezone", help="IANA time zone (default Asia/Shanghai).")
@click.option("--starts", "starts_on", type=DATE, help="First day (YYYY-MM-DD).")
@click.option("--ends", "ends_on", type=DATE, help="Last day (YYYY-MM-DD).")
@click.option("--group", "groups", multiple=True, help="An assessment group, in order; repeat for more.")
@with_appcontext
def create_command(name: str, **options: Any) -> None:
    """Create the campaign NAME."""
    _save(None, name=name, **options)


@campaign_command.command("update")
@click.argument("name")
@click.option("--rename", "new_name", help="A new name.")
@click.option("--office")
@click.option("--timezone")
@click.option("--starts", "starts_on", type=DATE)
@click.option("--ends", "ends_on", type=DATE)
@click.option("--group", "groups", multiple=True, help="Add an assessment group (those there stay).")
@with_appcontext
def update_command(name: str, new_name: str | None, **options: Any) -> None:
    """Change the campaign NAME."""
    _save(name, name=new_name, **options)


def _save(existing: str | None, **options: Any) -> None:
    from server.campaigns import services
    from server.campaigns.schemas import CampaignSchema
    from server.cli import _campaign, _clock, _session
    from server.errors import AppError

    values = _values(**options)
    try:
        # The API's checks (lengths, the time zone) hold on the command line too.
        errors = CampaignSchema(partial=existing is not None).validate(
            {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in values.items()})
        if errors:
            raise click.ClickException("; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in errors.items()))
        with _session() as session:
            if existing is None:
                campaign = services.create_campaign(session, _clock(), None, values)
            else:
                campaign = services.update_campaign(session, _clock(), None, _campaign(session, existing), values)
            session.commit()
            groups = "、".join(g.name for g in campaign.groups) or "none"
            click.echo(f"campaign {campaign.id} {campaign.name} ({campaign.office or 'no office'}); groups: {groups}")
    except AppError as exc:
        raise app_error(exc) from None


@campaign_command.command("list")
@with_appcontext
def list_command() -> None:
    """List the campaigns."""
    import sqlalchemy as sa

    from server.campaigns.models import Campaign
    from server.cli import _session

    with _session() as session:
        for campaign in session.scalars(sa.select(Campaign).order_by(Campaign.id)):
            span = f"{campaign.starts_on or ''}–{campaign.ends_on or ''}"
            click.echo(f"{campaign.id}\t{campaign.name}\t{campaign.office}\t{span}")


@campaign_command.command("export")
@click.argument("kind", type=click.Choice(["units", "users"]))
@click.option("--campaign", help="Campaign name (default: the only campaign).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="A .xlsx or .csv file; the format follows the suffix.")
@with_appcontext
def export_command(kind: str, campaign: str | None, output: Path) -> None:
    """Write the campaign's units or user accounts (and the admins; never a password) as the file
    'xuncha import units|users' reads back."""
    from server.cli import _campaign, _session
    from server.imports import units, users
    from server.imports.cli import write_export

    rows = {"units": units.unit_rows, "users": users.user_rows}[kind]
    with _session() as session:
        written = rows(session, _campaign(session, campaign))
    write_export(output, written, kind)
