"""``xuncha report ...``: scores, circulars (generate, preview, publish, download), score sheets
and bulletins from the command line; the same services as the API."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

FORMATS = ("docx", "html", "xlsx")


@click.group("report")
def report_command() -> None:
    """Assessment results, circulars (通报), score sheets and bulletins (快报)."""


def _round(session, round_id: int):  # type: ignore[no-untyped-def]
    from server.rounds.models import Round

    found = session.get(Round, round_id)
    if found is None:
        raise click.ClickException(f"no round {round_id}")
    return found


def _circular(session, circular_id: int):  # type: ignore[no-untyped-def]
    from server.assessment.models import Circular

    found = session.get(Circular, circular_id)
    if found is None:
        raise click.ClickException(f"no circular {circular_id}")
    return found


def _app_error(exc: Exception) -> click.ClickException:
    details = "; ".join(f"{e['field']}: {e['message']}" for e in getattr(exc, "errors", None) or [])
    return click.ClickException(details or str(exc))


@report_command.command("scores")
@click.argument("round_id", type=int)
@with_appcontext
def scores_command(round_id: int) -> None:
    """Print every unit's rank, score and tier in ROUND_ID."""
    from server.assessment.results import EXCLUDED, NOT_VISITED
    from server.assessment.services import assess_round
    from server.cli import _clock, _session

    with _session() as session:
        result = assess_round(session, _round(session, round_id), _clock().now())
    for group in result.ranking:
        if group.name:
            click.echo(f"[{group.name}]")
        for unit_id in group.unit_ids:
            unit = result.unit(unit_id)
            click.echo(f"{unit.rank:>4}  {unit.score:>7}  {unit.tier}  {unit.name}")
    for unit in result.units:
        if unit.status == EXCLUDED:
            click.echo(f"   -  {unit.score or '':>7}  暂未排序  {unit.name}（{unit.reason}）")
        elif unit.status == NOT_VISITED:
            click.echo(f"   -  {'':>7}  未检查  {unit.name}")


@report_command.command("generate")
@click.argument("round_id", type=int)
@click.option("--number", help="文号, e.g. 安双创办发〔2008〕19号.")
@click.option("--addressees", help="主送机关 (default: the groups of the round's units).")
@click.option("--copies", help="抄送 in the 版记.")
@click.option("--dated", type=click.DateTime(["%Y-%m-%d"]), help="成文日期 (default: today), YYYY-MM-DD.")
@with_appcontext
def generate_command(round_id: int, number: str | None, addressees: str | None, copies: str | None,
                     dated: dt.datetime | None) -> None:
    """Generate (or regenerate) the draft circular of ROUND_ID from the data; the 文号, 主送, date
    and 抄送 of an earlier draft stay unless given here."""
    from server.cli import _clock, _session
    from server.reports import services
    from server.reports.document import chinese_date

    header = {k: v for k, v in (("number", number), ("addressees", addressees), ("copies", copies),
                                ("dated", chinese_date(dated.date()) if dated else None)) if v is not None}
    with _session() as session:
        circular = services.generate(session, _clock(), _round(session, round_id), None, header=header,
                                     examples=current_app.config["REPORT_EXAMPLES_PER_CATEGORY"])
        session.commit()
        click.echo(f"draft circular {circular.id} (version {circular.version}): {circular.document['title']}")


@report_command.command("preview")
@click.argument("circular_id", type=int)
@with_appcontext
def preview_command(circular_id: int) -> None:
    """Print a circular's text as it will read."""
    from server.cli import _session
    from server.reports.document import walk

    with _session() as session:
        circular = _circular(session, circular_id)
        click.echo(f"[{circular.status.value}, version {circular.version}]")
        for kind, value in walk(circular.document):
            if kind == "attachment":
                click.echo(f"[{value['title']}：{len(value['rows'])}行]")
            elif kind == "imprint":
                click.echo("  ".join(line for line in value if line))
            else:
                indent = "" if kind in ("issuer", "number", "title", "addressees", "signature") else "  "
                click.echo(f"{indent}{value}" if kind != "figure" else f"  [图：{value}]")


@report_command.command("publish")
@click.argument("circular_id", type=int)
@with_appcontext
def publish_command(circular_id: int) -> None:
    """Publish a draft circular: frozen, with its data snapshot."""
    from server.cli import _clock, _session
    from server.errors import AppError
    from server.reports import services

    with _session() as session:
        try:
            circular = services.publish(session, _clock(), _circular(session, circular_id), None)
        except AppError as exc:
            raise _app_error(exc) from None
        session.commit()
        click.echo(f"published circular {circular.id} ({circular.document['dated']})")


@report_command.command("download")
@click.argument("circular_id", type=int)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="docx",
              help="docx or html: the circular; xlsx: its score sheet.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@with_appcontext
def download_command(circular_id: int, fmt: str, output: Path) -> None:
    """Write a circular as DOCX or HTML, or its score sheet as XLSX."""
    from server.cli import _session
    from server.reports import services
    from server.reports.docx_writer import write_docx
    from server.reports.html_writer import write_html
    from server.reports.score_sheet import write_score_sheet

    with _session() as session:
        circular = _circular(session, circular_id)
        if fmt == "docx":
            output.write_bytes(write_docx(circular.document, created=circular.published_at or circular.generated_at))
        elif fmt == "html":
            output.write_text(write_html(circular.document), encoding="utf-8")
        else:
            output.write_bytes(write_score_sheet(services.snapshot_of(circular)))
    click.echo(f"wrote {output}")


@report_command.command("score-sheet")
@click.argument("round_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@with_appcontext
def score_sheet_command(round_id: int, output: Path) -> None:
    """Write ROUND_ID's score sheet (XLSX) from the data as it is now."""
    from server.assessment.services import assess_round
    from server.cli import _clock, _session
    from server.reports.score_sheet import write_score_sheet

    with _session() as session:
        output.write_bytes(write_score_sheet(assess_round(session, _round(session, round_id), _clock().now())))
    click.echo(f"wrote {output}")


@report_command.command("bulletin")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First day (YYYY-MM-DD).")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Last day, included.")
@click.option("--campaign", help="Campaign name (default: the only campaign).")
@click.option("--format", "fmt", type=click.Choice(("docx", "html")), default="docx")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--issue", is_flag=True, help="Number the period's bulletin (第N期) before writing it.")
@with_appcontext
def bulletin_command(start: dt.datetime, end: dt.datetime, campaign: str | None, fmt: str, output: Path,
                     issue: bool) -> None:
    """Write the bulletin (快报) of a period as DOCX or HTML, and print its totals. With --issue the
    period gets the campaign's next number (a period issued before keeps its own)."""
    from server.cli import _campaign, _clock, _session
    from server.reports.docx_writer import write_docx
    from server.reports.html_writer import write_html
    from server.reports.services import bulletin_document, issue_bulletin

    first, last = start.date(), end.date()
    longest = current_app.config["BULLETIN_MAX_DAYS"]
    if last < first or (last - first).days >= longest:
        raise click.ClickException(f"the period must run forward and cover at most {longest} days")
    with _session() as session:
        found = _campaign(session, campaign)
        if issue:
            issue_bulletin(session, _clock(), found, first, last, None)
            session.commit()
        counts, document, figures = bulletin_document(
            session, _clock(), found, first, last,
            font=current_app.config["CHART_FONT"], max_units=current_app.config["BULLETIN_CHART_UNITS"])
    if fmt == "docx":
        output.write_bytes(write_docx(document, figures))
    else:
        output.write_text(write_html(document, figures), encoding="utf-8")
    t = counts.totals
    number = f"第{counts.number}期: " if counts.number else ""
    click.echo(f"{number}found {t.found}, rectified {t.rectified}, overdue {t.overdue}, escalated {t.escalated}, "
               f"rebounds {t.rebounds}; {len(figures)} charts; wrote {output}")
