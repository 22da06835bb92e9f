from __future__ import annotations

from typing import Any

from flask import current_app

from server import db
from server.api import Blueprint
from server.auth.permissions import Permission
from server.auth.security import current_user, requires
from server.clock import app_clock
from server.worktime import services
from server.worktime.schemas import HolidayScheduleInSchema, HolidayYearSchema

blp = Blueprint("holidays", __name__, url_prefix="/api/v1",
                description="The working-day calendar: each year's holiday schedule (放假安排)")


@blp.get("/holidays/<int:year>")
@requires(Permission.READ_HOLIDAYS)
@blp.response(200, HolidayYearSchema)
def get_year(year: int) -> services.YearReport:
    """The year's days off and make-up working days, and whether its schedule is confirmed."""
    return services.year_report(db.session(), current_app.config, year)


@blp.put("/holidays/<int:year>")
@requires(Permission.MANAGE_HOLIDAYS)
@blp.arguments(HolidayScheduleInSchema)
@blp.response(200, HolidayYearSchema)
def put_year(body: dict[str, Any], year: int) -> services.YearReport:
    """Load the year's official schedule; it replaces the package's and any loaded before. Open
    orders' provisional (暂定) deadlines are recomputed with it, and their units told of a change."""
    from server.orders.rescheduling import load_schedule

    session = db.session()
    load_schedule(session, app_clock(), year, body["days"], actor_id=current_user().id, source=body["source"])
    session.commit()
    return services.year_report(session, current_app.config, year)
