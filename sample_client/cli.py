"""``xuncha-client``: the reference client as a person uses it, from a terminal.

Captures work with no network: they go to the outbox and ``sync`` sends them later. The state
(store, photos) lives in ``--home`` (or ``XUNCHA_CLIENT_HOME``, default ``~/.xuncha-client``).
Exit status: 0 done; 1 refused or wrong input; 2 the server could not be reached (everything
is kept for the next ``sync``); 3 this phone may not sync any more (revoked, app too old).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table

from sample_client.app import FieldApp
from sample_client.errors import ClientError, GaveUp, HandOverRefused, LoginRequired, ServerRefused, SyncStopped
from sample_client.simulator import simulate_command

console = Console(stderr=True)
out = Console()


class _State:
    def __init__(self, home: Path, server: str | None, password: str | None, attempts: int, batch_size: int) -> None:
        self.home, self.server, self.password, self.attempts = home, server, password, attempts
        self.batch_size = batch_size
        self._app: FieldApp | None = None

    @property
    def app(self) -> FieldApp:
        if self._app is None:
            self._app = FieldApp(self.home, server=self.server, password=self.password, attempts=self.attempts,
                                 batch_size=self.batch_size)
        return self._app

    def close(self) -> None:
        if self._app is not None:
            self._app.close()


def _run(action: Callable[[], Any]) -> Any:
    """Turn the library's errors into a message and an exit status."""
    try:
        return action()
    except GaveUp as error:
        console.print(f"[yellow]offline:[/] {error}")
        sys.exit(2)
    except SyncStopped as error:
        console.print(f"[red]sync stopped:[/] {error}. Contact an administrator or update the app.")
        sys.exit(3)
    except LoginRequired as error:
        console.print(f"[red]log in again:[/] {error}")
        sys.exit(1)
    except (HandOverRefused, ServerRefused, ClientError) as error:
        console.print(f"[red]refused:[/] {error}")
        sys.exit(1)


@click.group()
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), envvar="XUNCHA_CLIENT_HOME",
              default=Path.home() / ".xuncha-client", show_default=True, help="Where this phone keeps its state.")
@click.option("--server", envvar="XUNCHA_CLIENT_SERVER", help="Server URL (remembered after the first use).")
@click.option("--password", envvar="XUNCHA_CLIENT_PASSWORD", help="To log in again by itself if the token lapses.")
@click.option("--attempts", default=8, show_default=True, help="Tries per request before giving up for now.")
@click.option("--batch-size", default=500, show_default=True, envvar="XUNCHA_CLIENT_BATCH_SIZE",
              help="Mutations per push (fewer on a weak link).")
@click.pass_context
def cli(ctx: click.Context, home: Path, server: str | None, password: str | None, attempts: int,
        batch_size: int) -> None:
    """The Xuncha reference client: capture offline, sync when there is a network."""
    ctx.obj = _State(home, server, password, attempts, batch_size)
    ctx.call_on_close(ctx.obj.close)


@cli.command()
@click.argument("username")
@click.password_option(confirmation_prompt=False, envvar="XUNCHA_CLIENT_PASSWORD")
@click.pass_obj
def login(state: _State, username: str, password: str) -> None:
    """Log in (registers this phone's device id on its first login)."""
    body = _run(lambda: state.app.login(username, password))
    user = body.get("user") or {}
    out.print(f"logged in as {user.get('display_name') or username} ({user.get('role')}), "
              f"device {body.get('device_id')}")


def _page_progress(progress: Progress) -> Callable[[dict[str, Any]], None]:
    task = progress.add_task("pull", total=None)

    def page(body: dict[str, Any]) -> None:
        progress.update(task, advance=1, description=f"pull: {len(body['changes'])} changes")

    return page


def _progress(bytes_too: bool = False) -> Progress:
    columns: list[Any] = [TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:.0f} pages")]
    if bytes_too:
        columns = [TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn()]
    return Progress(*columns, console=console, transient=True)


@cli.command()
@click.pass_obj
def pull(state: _State) -> None:
    """Bring the phone's scope up to date (pages of changes)."""
    with _progress() as progress:
        applied = _run(lambda: state.app.pull(_page_progress(progress)))
    out.print(f"pulled {applied} changes")


@cli.group()
def visit() -> None:
    """Visits (检查) to a unit."""


@visit.command("start")
@click.argument("unit", type=int)
@click.option("--round", "round_id", type=int, help="Round id (default: the latest round assigning the unit).")
@click.option("--methods", default="实地查看", show_default=True)
@click.pass_obj
def visit_start(state: _State, unit: int, round_id: int | None, methods: str) -> None:
    visit_id = _run(lambda: state.app.start_visit(unit, round_id=round_id, methods=methods))
    out.print(visit_id)


@visit.command("end")
@click.option("--notes", default="")
@click.pass_obj
def visit_end(state: _State, notes: str) -> None:
    out.print(_run(lambda: state.app.end_visit(notes)))


@cli.command()
@click.argument("item", type=int)
@click.option("--result", type=click.Choice(["pass", "fail", "na"]), default="pass", show_default=True)
@click.option("--instances", type=int, default=0)
@click.option("--score", help="Points a fail takes off, two places, e.g. 1.00 (never negative: docs/sync-protocol.md).")
@click.option("--note", default="")
@click.pass_obj
def answer(state: _State, item: int, result: str, instances: int, score: str | None, note: str) -> None:
    """Answer a checklist item in the open visit."""
    out.print(_run(lambda: state.app.answer(item, result, instances=instances, score=score, note=note)))


_PHOTO = click.Path(exists=True, dir_okay=False, path_type=Path)


def _finding_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed([
        click.option("--category", required=True, help="e.g. 环境卫生, 市容秩序"),
        click.option("--description", required=True),
        click.option("--severity", type=click.Choice(["minor", "normal", "serious", "urgent"]), default="normal"),
        click.option("--photo", "photos", multiple=True, type=_PHOTO, help="A before-photo (repeat for more)."),
        click.option("--location", "location_text", default=""),
    ]):
        command = option(command)
    return command


@cli.group()
def finding() -> None:
    """Findings (问题) in the open visit."""


@finding.command("add")
@_finding_options
@click.option("--lat", type=float)
@click.option("--lon", type=float)
@click.option("--item", type=int)
@click.pass_obj
def finding_add(state: _State, category: str, description: str, severity: str, photos: tuple[Path, ...],
                location_text: str, lat: float | None, lon: float | None, item: int | None) -> None:
    out.print(_run(lambda: state.app.add_finding(category, description, photos=photos, severity=severity,
                                                 latitude=lat, longitude=lon, location_text=location_text,
                                                 item_id=item)))


@cli.command("patrol-finding")
@_finding_options
@click.option("--lat", type=float, required=True)
@click.option("--lon", type=float, required=True)
@click.pass_obj
def patrol_finding(state: _State, category: str, description: str, severity: str, photos: tuple[Path, ...],
                   location_text: str, lat: float, lon: float) -> None:
    """A street finding outside any visit (巡查发现), routed by its location."""
    out.print(_run(lambda: state.app.patrol_finding(lat, lon, category, description, photos=photos,
                                                    severity=severity, location_text=location_text)))


@cli.command()
@click.argument("order")
@click.option("--measures", required=True, help="What was done (整改措施).")
@click.option("--photo", "photos", multiple=True, type=_PHOTO, help="An after-photo (repeat for more).")
@click.pass_obj
def respond(state: _State, order: str, measures: str, photos: tuple[Path, ...]) -> None:
    """Answer an order with measures and after-photos (整改反馈)."""
    out.print(_run(lambda: state.app.respond(order, measures, photos=photos)))


@cli.command()
@click.pass_obj
def sync(state: _State) -> None:
    """Push the outbox, pull, upload photos."""
    app = state.app
    with _progress(bytes_too=True) as progress:
        uploads = progress.add_task("photos", total=app.photos.pending_bytes() or None)
        pushes = progress.add_task("push", total=app.store.outbox_depth() or None)
        page = _page_progress(progress)
        report = _run(lambda: app.sync(on_batch=lambda n: progress.advance(pushes, n), on_page=page,
                                       on_bytes=lambda n: progress.advance(uploads, n)))
    out.print(f"pushed {report.pushed}, pulled {report.pulled}, photos sent {report.photos_sent}"
              + (f", photos refused {report.photos_failed}" if report.photos_failed else ""))
    if report.rejected:
        out.print(f"[yellow]{len(report.rejected)} not applied[/]: see `xuncha-client conflicts`")
    for note in report.handed_over:
        out.print(f"已转交：{note['to']}  {note['description']}", soft_wrap=True)
    if report.handed_over:
        out.print(f"{len(report.handed_over)} handed over (no longer on this phone): see `xuncha-client handed-over`")


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def status(state: _State, as_json: bool) -> None:
    """Outbox depth, photos pending, last sync."""
    facts = state.app.status()
    if as_json:
        out.print_json(json.dumps(facts, ensure_ascii=False))
        return
    for key, value in facts.items():
        out.print(f"{key:>20}: {value}")


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def conflicts(state: _State, as_json: bool) -> None:
    """Mutations the server did not apply (rejected or in conflict), with its reasons."""
    found = state.app.conflicts()
    if as_json:
        out.print_json(json.dumps(found, ensure_ascii=False))
        return
    table = Table("seq", "entity", "id", "op", "outcome", "reason")
    for result in found:
        problem = result.get("problem") or {}
        table.add_row(str(result["seq"]), result["entity"], result["id"], result.get("op", ""), result["outcome"],
                      f"{problem.get('code', '')}: {problem.get('detail') or problem.get('title') or ''}")
    out.print(table)


@cli.command("handed-over")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def handed_over(state: _State, as_json: bool) -> None:
    """Reports the server took but routed to a unit another team inspects, or to triage (待分派):
    they are no longer on this phone; the console's 我的检查 page still lists them."""
    found = state.app.handed_over()
    if as_json:
        out.print_json(json.dumps(found, ensure_ascii=False))
        return
    table = Table("id", "category", "description", "已转交", "at")
    for note in found:
        table.add_row(note["id"], note["category"], note["description"], note["to"], note["at"])
    out.print(table)


@cli.command()
@click.pass_obj
def units(state: _State) -> None:
    """The units this phone may visit."""
    for unit in state.app.my_units():
        out.print(f"{unit['id']:>5}  {unit['name']}")


@cli.command()
@click.pass_obj
def orders(state: _State) -> None:
    """Orders (整改通知 / 督办单) the phone holds."""
    for order in sorted(state.app.records("order"), key=lambda o: o.get("due_at") or ""):
        out.print(f"{order['id']}  unit {order.get('unit_id')}  level {order.get('level')}  {order.get('status')}"
                  f"  due {order.get('due_at')}", soft_wrap=True)


cli.add_command(simulate_command)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
