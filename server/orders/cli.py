"""``xuncha policy load|show``: the escalation policy from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from server.orders import policy as policies


@click.group("policy")
def policy_command() -> None:
    """The escalation policy (整改时限与督办规则): levels, limits, reminders."""


@policy_command.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def load_command(file: Path) -> None:
    """Validate FILE (TOML, or JSON) and store it as a new version; new orders follow it."""
    from server.cli import _clock, _session

    text = file.read_text("utf-8")
    try:
        document = json.loads(text) if file.suffix.lower() == ".json" else policies.parse_toml(text)
        with _session() as session, session.begin():
            stored = policies.store(session, _clock(), document, source=file.name, actor_id=None)
    except (policies.InvalidPolicy, json.JSONDecodeError) as exc:
        problems = getattr(exc, "errors", None) or []
        lines = [f"  {p['field']}: {p['message']}" for p in problems] or [f"  {exc}"]
        raise click.ClickException(f"{file}: the policy was not loaded:\n" + "\n".join(lines)) from None
    click.echo(f"Loaded {file.name} as escalation policy version {stored.version} ({stored.name}).")


@policy_command.command("show")
@click.option("--version", type=int, help="A stored version (default: the current one).")
@with_appcontext
def show_command(version: int | None) -> None:
    """Print a policy's levels, limits and reminders."""
    from server.cli import _clock, _session

    with _session() as session, session.begin():
        shown = policies.policy(session, version) if version else policies.current_policy(session, _clock())
    click.echo(f"Escalation policy version {shown.version}: {shown.name}")
    for level in shown.levels:
        limit = f", {level.limit} after escalating" if level.limit else ""
        click.echo(f"  level {level.level} {level.name} ({level.colour}{limit}); tells {', '.join(level.notify)}")
    for rule in shown.rules:
        where = " ".join(filter(None, [f"level {rule.level}" if rule.level else "",
                                       rule.category or "", rule.severity or ""])) or "anything else"
        click.echo(f"  limit {rule.limit}: {where}")
    for reminder in shown.reminders:
        when = f"at {reminder.at:.0%} of the limit" if reminder.at is not None else f"{reminder.before} before"
        click.echo(f"  remind {when}: {', '.join(reminder.notify)}")
