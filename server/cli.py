"""The ``xuncha`` command: database, users, imports, demo data, scheduler and dev server."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import FlaskGroup, routes_command, run_command, shell_command, with_appcontext
from werkzeug.serving import run_simple

from server import create_app
from server.campaigns.cli import campaign_command
from server.imports.cli import import_command
from server.orders.cli import policy_command
from server.reports.cli import report_command
from server.rounds.cli import round_command
from server.standards.cli import standard_command
from server.worktime.cli import holidays_command
from server.settings import ConfigError, describe


def _app() -> Flask:
    return create_app()


def _guarded_run_command() -> click.Command:
    """Flask's ``run``, refusing ``--debugger`` in production (``--debug`` is refused by create_app):
    the Werkzeug debugger runs any code sent to it."""
    serve = run_command.callback
    assert serve is not None

    @functools.wraps(serve)
    def run(*args, **kwargs):  # type: ignore[no-untyped-def]
        from server.settings import DEMO_HINT, load_settings

        if kwargs.get("debugger") and load_settings()["ENV"] == "production":
            raise click.UsageError(f"--debugger is refused when XUNCHA_ENV=production. {DEMO_HINT}")
        return serve(*args, **kwargs)

    guarded = copy.copy(run_command)
    guarded.callback = run
    return guarded


cli = FlaskGroup(create_app=_app, add_default_commands=False, add_version_option=False,
                 help="Xuncha server administration.")
for _command in (_guarded_run_command(), shell_command, routes_command):
    cli.add_command(_command)


def main() -> None:
    try:
        cli.main(prog_name="xuncha")
    except ConfigError as exc:
        click.echo(f"xuncha: {exc}", err=True)
        sys.exit(2)


def _session():  # type: ignore[no-untyped-def]
    return current_app.extensions["xuncha.db"].session()


def _clock():  # type: ignore[no-untyped-def]
    return current_app.extensions["xuncha.clock"]


# -- database ---------------------------------------------------------------------------------

@cli.group("db")
def db_group() -> None:
    """Database schema migrations (Alembic)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Bring the database to REVISION (default: the newest)."""
    upgrade_database(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}")


def upgrade_database(url: str, revision: str = "head") -> None:
    from alembic import command

    from server.migrations import alembic_config

    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


@db_group.command("current")
@with_appcontext
def db_current() -> None:
    """Print the revision the database is at."""
    from alembic import command

    from server.migrations import alembic_config

    command.current(alembic_config(current_app.config["DATABASE_URL"]))


# -- users ------------------------------------------------------------------------------------

@cli.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "supervisor", "inspector", "liaison"]), required=True)
@click.option("--name", "display_name", help="Display name (default: the username).")
@click.option("--campaign", help="Campaign name (default: the only campaign).")
@click.option("--unit", "unit_code", help="Unit code, for liaisons.")
@click.option("--password", envvar="XUNCHA_NEW_PASSWORD", help="Prompted for when omitted.")
@with_appcontext
def create_user_command(username: str, role: str, display_name: str | None, campaign: str | None,
                        unit_code: str | None, password: str | None) -> None:
    """Create a user account."""
    from server.auth.models import Role
    from server.auth.services import create_user
    from server.errors import AppError
    from server.units.models import Unit

    with _session() as session:
        campaign_id = None if role == "admin" and campaign is None else _campaign(session, campaign).id
        unit_id = None
        if unit_code:
            unit_id = session.scalar(sa.select(Unit.id).where(Unit.campaign_id == campaign_id,
                                                              Unit.code == unit_code))
            if unit_id is None:
                raise click.ClickException(f"no unit with code {unit_code!r}")
        if password is None:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            user = create_user(session, _clock(), current_app.extensions["xuncha.hasher"],
                               username=username, password=password, display_name=display_name or username,
                               role=Role(role), campaign_id=campaign_id, unit_id=unit_id)
        except AppError as exc:
            raise _click_error(exc) from exc
        session.commit()
        click.echo(f"created {role} {user.username} (id {user.id})")


def _click_error(exc: Exception) -> click.ClickException:
    errors = getattr(exc, "errors", None) or []
    details = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return click.ClickException(details or str(exc))


@cli.command("reset-password")
@click.argument("username")
@click.option("--password", envvar="XUNCHA_NEW_PASSWORD", help="Prompted for when omitted.")
@click.option("--reason", default="", help="Kept in the audit trail.")
@with_appcontext
def reset_password_command(username: str, password: str | None, reason: str) -> None:
    """Set a new password for USERNAME; every token of the account is revoked."""
    from server.auth import accounts
    from server.errors import AppError

    with _session() as session:
        try:
            user = accounts.user_by_username(session, username)
            if password is None:
                password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
            revoked = accounts.reset_password(session, _clock(), current_app.extensions["xuncha.hasher"], user.id,
                                              password=password, actor=None, reason=reason)
        except AppError as exc:
            raise _click_error(exc) from exc
        session.commit()
        click.echo(f"password of {user.username} reset; {revoked} token(s) revoked")


@cli.command("enrol")
@click.argument("username")
@click.option("--server", "server_url", required=True, help="The server's address as phones reach it, "
              "e.g. https://xuncha.example.gov.cn")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the QR code (PNG).")
@with_appcontext
def enrol_command(username: str, server_url: str, output: Path) -> None:
    """Issue a one-time code that sets up USERNAME's phone, as a QR code PNG to show or print."""
    from server.auth import accounts, enrolment
    from server.errors import AppError

    with _session() as session:
        try:
            user = accounts.user_by_username(session, username)
            issued = enrolment.issue(session, _clock(), user.id, actor=None, ttl=dt.timedelta(
                minutes=current_app.config["ENROLMENT_CODE_TTL_MINUTES"]))
        except AppError as exc:
            raise _click_error(exc) from exc
        session.commit()
        output.write_bytes(enrolment.qr_png(issued.uri(server_url)))
        click.echo(f"set-up code for {user.username} written to {output}; valid once, until "
                   f"{issued.record.expires_at.isoformat()}")


@cli.command("disable-user")
@click.argument("username")
@click.option("--reason", default="", help="Kept in the audit trail.")
@with_appcontext
def disable_user_command(username: str, reason: str) -> None:
    """Disable USERNAME: it cannot log in, and every token of it is revoked."""
    _set_active(username, False, reason)


@cli.command("enable-user")
@click.argument("username")
@click.option("--reason", default="", help="Kept in the audit trail.")
@with_appcontext
def enable_user_command(username: str, reason: str) -> None:
    """Enable USERNAME again; its user logs in afresh (no old token comes back)."""
    _set_active(username, True, reason)


def _set_active(username: str, active: bool, reason: str) -> None:
    from server.auth import accounts
    from server.errors import AppError

    with _session() as session:
        try:
            user = accounts.user_by_username(session, username)
            revoked = accounts.set_active(session, _clock(), user.id, active, actor=None, reason=reason)
        except AppError as exc:
            raise _click_error(exc) from exc
        session.commit()
        click.echo(f"{user.username} {'enabled' if active else f'disabled; {revoked} token(s) revoked'}")


def _campaign(session, name: str | None):  # type: ignore[no-untyped-def]
    from server.campaigns.models import Campaign

    campaigns = session.scalars(sa.select(Campaign).order_by(Campaign.id)).all()
    if name is not None:
        for campaign in campaigns:
            if campaign.name == name:
                return campaign
        raise click.ClickException(f"no campaign named {name!r}")
    if len(campaigns) == 1:
        return campaigns[0]
    if not campaigns:
        raise click.ClickException("there is no campaign yet; create one with 'xuncha campaign create NAME'")
    raise click.ClickException("several campaigns exist; name one with --campaign")


cli.add_command(campaign_command)
cli.add_command(standard_command)
cli.add_command(round_command)
cli.add_command(import_command)
cli.add_command(holidays_command)
cli.add_command(policy_command)
cli.add_command(report_command)


# -- settings ---------------------------------------------------------------------------------

@cli.command("settings")
def settings_command() -> None:
    """List every XUNCHA_* setting with its default."""
    click.echo(describe())


# -- scheduler and dev server -----------------------------------------------------------------

@cli.command("scheduler")
@click.option("--once", is_flag=True, help="Run every job once now and exit.")
@with_appcontext
def scheduler_command(once: bool) -> None:
    """Run the scheduler process (reminders, escalation, digests, clean-up)."""
    from server.scheduling import JOBS, build_scheduler, run_job

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if once:
        for job in JOBS:
            click.echo(f"{job.id}: {run_job(app, job)}")
        return
    scheduler = build_scheduler(app)
    click.echo(f"scheduler running {len(JOBS)} jobs in {app.config['TIMEZONE']}; Ctrl+C stops it")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass


@cli.command("dev")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--no-demo", is_flag=True, help="Do not load the demo data.")
@with_appcontext
def dev_command(host: str, port: int, no_demo: bool) -> None:
    """Migrate, load the demo data, and serve with the scheduler beside it (development only)."""
    _refuse_in_production("xuncha dev (the development server, with demo accounts)")

    upgrade_database(current_app.config["DATABASE_URL"])
    if not no_demo:
        _load_demo()
    scheduler = subprocess.Popen([sys.executable, "-m", "server.cli", "scheduler"], env=os.environ.copy())
    click.echo(f"scheduler process started (pid {scheduler.pid})")
    # Stopped by a service manager (SIGTERM) as by Ctrl+C: take the scheduler down too.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        # app.run() is a no-op inside the flask command line; serve with werkzeug directly.
        run_simple(host, port, current_app._get_current_object(), threaded=True)  # type: ignore[attr-defined]
    except KeyboardInterrupt:
        pass
    finally:
        scheduler.terminate()
        scheduler.wait(timeout=10)


def _refuse_in_production(what: str) -> None:
    from server.settings import DEMO_HINT

    if current_app.config["ENV"] == "production":
        raise click.ClickException(f"{what} is refused when XUNCHA_ENV=production. {DEMO_HINT}")


@cli.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load the demo campaign built from the seed circulars (safe to run again)."""
    _refuse_in_production("xuncha demo (accounts with published passwords)")
    _load_demo()


def _load_demo() -> None:
    import media
    from server.demo import load_demo, load_demo_work, print_credentials

    config = current_app.config
    with _session() as session:
        load_demo(session, _clock(), current_app.extensions["xuncha.hasher"])
        session.commit()
        made = load_demo_work(session, _clock().now(), current_app.extensions["xuncha.media"],
                              media.Limits(max_bytes=config["MEDIA_MAX_BYTES"], max_pixels=config["MEDIA_MAX_PIXELS"]))
    if made:
        click.echo("Demo fortnight of patrol work: " + ", ".join(f"{n} {kind}" for kind, n in sorted(made.items())))
    print_credentials()


if __name__ == "__main__":
    main()
