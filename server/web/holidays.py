"""The working-day calendar page (docs/console.md): a year's days off and make-up working days as
the deadlines count them, whether the year is confirmed, and, for admins, loading the year's
official schedule (the file ``xuncha holidays load`` and ``PUT /api/v1/holidays/{year}`` take).

What a load did to open orders is read back from the audit trail
(:func:`server.orders.rescheduling.rescheduled_by`), so the page shows it after the redirect and
to anyone who looks later: the provisional (暂定) deadlines it confirmed, those that moved, and
who at each unit was told.
"""

from __future__ import annotations

import calendar
import datetime as dt
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for

from server import db
from server.auth.models import User
from server.auth.permissions import Permission, allowed
from server.auth.scope import visible_orders
from server.auth.security import authenticate_request, current_reach, requires
from server.clock import app_clock
from server.errors import ValidationFailed
from server.findings.models import Finding
from server.imports.uploads import checked_file
from server.notifications.models import Notification
from server.orders.models import Order
from server.orders.rescheduling import load_schedule, rescheduled_by
from server.units.models import Unit
from server.web.text import text
from server.web.views import blp
from server.worktime import services
from server.worktime.files import located, read_schedule_file
from server.worktime.models import HolidayYear
from server.worktime.schedule import package_years

#: The textarea's first line, there when the page opens: the clerk types the days under it, and
#: the lines the problems name are the lines they see.
TYPED_HEADER = "日期,类型,名称"
SCHEDULE_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".json")


@dataclass(frozen=True)
class Day:
    date: dt.date
    #: "work", "off" (a weekend), "holiday" (a day off the schedule names) or "makeup" (调休上班).
    kind: str
    name: str = ""


@dataclass(frozen=True)
class Moved:
    order_id: uuid.UUID
    unit: str
    description: str
    before: str | None
    after: str | None
    told: list[str]


def _today() -> dt.date:
    return app_clock().now().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


def _year() -> int:
    raw = request.args.get("year", "")
    year = int(raw) if raw.isdigit() else _today().year
    years = package_years()
    if year not in years:
        raise ValidationFailed(f"There is no holiday calendar for {year}.", errors=[
            {"field": "year", "message": f"must be between {years.start} and {years.stop - 1}"}])
    return year


@blp.get("/holidays")
@requires(Permission.READ_HOLIDAYS)
def holidays() -> str:
    return _page(_year())


def _page(year: int, *, problems: list[str] | None = None, typed: str = "", source: str = "") -> Any:
    session = db.session()
    report = services.year_report(session, current_app.config, year)
    load = session.get(HolidayYear, year) if report.origin == "official" else None
    events = rescheduled_by(session, load) if load is not None else []
    loader = session.get(User, load.loaded_by) if load is not None and load.loaded_by else None
    page = render_template(
        "web/people_holidays.html", year=year, report=report, months=_months(year, report), today=_today(),
        years=package_years(), load=load, loader=loader, confirmed=len(events), moved=_moved(events),
        may_load=allowed(authenticate_request().caller.role, Permission.MANAGE_HOLIDAYS),
        problems=problems or [], typed=typed, source=source, header=TYPED_HEADER)
    return (page, 422) if problems else page


def _months(year: int, report: services.YearReport) -> list[tuple[int, list[list[Day | None]]]]:
    """Each month's weeks, Monday first; None for the days of the months around it."""
    work = services.calendar_for(db.session(), current_app.config)
    named = {day.date: day for day in (*report.days_off, *report.make_up_days)}
    months = []
    for month in range(1, 13):
        rows = []
        for week in calendar.Calendar().monthdatescalendar(year, month):
            row: list[Day | None] = []
            for day in week:
                if day.month != month:
                    row.append(None)
                    continue
                listed = named.get(day)
                kind = ("makeup" if listed else "work") if work.is_working_day(day) else (
                    "holiday" if listed else "off")
                row.append(Day(day, kind, listed.name if listed else ""))
            rows.append(row)
        months.append((month, rows))
    return months


def _moved(events: list[Any]) -> list[Moved]:
    """The orders whose deadline the load moved, among those the caller may read, with who was told."""
    changed = {uuid.UUID(e.entity_id): e for e in events if e.data.get("from") != e.data.get("to")}
    if not changed:
        return []
    session = db.session()
    rows = session.execute(visible_orders(current_reach()).add_columns(Finding.description, Unit.name)
                           .join(Unit, Unit.id == Order.unit_id, isouter=True)
                           .where(Order.id.in_(list(changed)))).all()
    told: dict[str, list[str]] = {}
    earliest = min(e.occurred_at for e in changed.values())
    for data, name in session.execute(sa.select(Notification.data, User.display_name)
                                      .join(User, User.id == Notification.user_id)
                                      .where(Notification.kind == "order.rescheduled",
                                             Notification.created_at >= earliest)
                                      .order_by(Notification.id)):
        told.setdefault(str(data.get("order_id")), []).append(name)
    return [Moved(order.id, unit or "—", description, changed[order.id].data.get("from"),
                  changed[order.id].data.get("to"), told.get(str(order.id), []))
            for order, description, unit in rows]


@blp.post("/holidays/<int:year>")
@requires(Permission.MANAGE_HOLIDAYS)
def holidays_load(year: int) -> Any:
    """Load the year's official schedule from an uploaded file or the text typed in; problems
    are listed on the page (by the file's lines) and nothing is loaded."""
    typed = request.form.get("days", "").strip()
    source = request.form.get("source", "").strip()
    with tempfile.TemporaryDirectory() as folder:
        path, name = _schedule_file(Path(folder), typed)
        parsed = read_schedule_file(path)
    if parsed.problems:
        return _page(year, problems=parsed.problems, typed=typed, source=source)
    session = db.session()
    try:
        _loaded, rescheduled = load_schedule(session, app_clock(), year, parsed.days,
                                             actor_id=authenticate_request().user.id,
                                             source=source or parsed.source or name)
    except ValidationFailed as exc:
        session.rollback()
        problems = [located(problem, parsed.places) for problem in exc.errors or [{"message": str(exc)}]]
        return _page(year, problems=problems, typed=typed, source=source)
    session.commit()
    flash(text("people.holidays.loaded", year=year, confirmed=rescheduled.confirmed, moved=rescheduled.moved))
    return redirect(url_for("web.holidays", year=year))


def _schedule_file(folder: Path, typed: str) -> tuple[Path, str]:
    """The schedule as a file the reader takes: the upload as sent, or the typed text as CSV
    (under its header line) or JSON."""
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        upload = checked_file(upload, SCHEDULE_SUFFIXES)
        path = folder / Path(upload.filename).name
        upload.save(path)
        return path, upload.filename
    if typed in ("", TYPED_HEADER):
        raise ValidationFailed("Choose a file or type the days in.",
                               errors=[{"field": "days", "message": "missing"}])
    path = folder / ("schedule.json" if typed[0] in "[{" else "schedule.csv")
    path.write_text(typed, encoding="utf-8")
    return path, text("people.holidays.typed")

