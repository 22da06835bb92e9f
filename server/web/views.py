"""The console's pages. Each view authenticates through the session cookie, calls a service,
and renders a template; errors become a page in the console's language (404 for what the
caller may not see, as in the API: a liaison learns nothing of another unit's orders)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from server import db
from server.auth import login_flow, services
from server.auth.models import Role
from server.auth.permissions import Permission
from server.auth.scope import visible_orders
from server.auth.security import authenticate_request, current_reach, requires
from server.clock import app_clock
from server.errors import AppError, Forbidden, InvalidCredentials, Unauthenticated
from server.findings.models import Finding
from server.orders.models import OPEN_STATUSES, Order, OrderStatus
from server.web import session as web_session
from server.web.text import text

blp = Blueprint("web", __name__, url_prefix="/console", template_folder="templates", static_folder="static",
                static_url_path="/static")

#: The device a console login is registered as.
BROWSER = services.DeviceInfo(name="浏览器", platform="web")


@blp.context_processor
def catalogue() -> dict[str, Any]:
    from flask import g

    principal = g.get("principal")
    return {"_": text, "user": principal.user if principal is not None else None}


@blp.app_template_filter("local")
def local_time(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time as the campaign's time zone reads it."""
    if value is None:
        return "—"
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime(fmt)


@blp.after_request
def never_stored(response: Response) -> Response:
    # A page names records and who is logged in: after logout, the back button must show nothing.
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.errorhandler(Unauthenticated)
def to_login(exc: Unauthenticated) -> Response:
    if request.method == "GET":
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    return _error_page(401, text("login.expired"))


@blp.errorhandler(CSRFError)
def stale_form(exc: CSRFError) -> tuple[str, int]:
    return _error_page(400, text("error.csrf"))


@blp.errorhandler(AppError)
def app_error(exc: AppError) -> tuple[str, int]:
    if exc.status == 404:
        return _error_page(404, text("error.404"))
    if exc.status == 403:
        return _error_page(403, text("error.403"))
    return _error_page(exc.status, text("error.other", detail=exc.detail or exc.title))


@blp.errorhandler(HTTPException)
def http_error(exc: HTTPException) -> tuple[str, int]:
    code = exc.code or 500
    return _error_page(code, text("error.404") if code == 404 else text("error.other", detail=exc.name))


def _error_page(status: int, message: str) -> tuple[str, int]:
    return render_template("web/error.html", status=status, message=message), status


# -- login ---------------------------------------------------------------------------------------

@blp.get("/login")
def login() -> str:
    return render_template("web/login.html", next=_safe_next(), error=None)


@blp.post("/login")
def login_post() -> Response | tuple[str, int]:
    username = request.form.get("username", "")[:150]
    password = request.form.get("password", "")[:1024]
    try:
        issued = login_flow.log_in(username, password, BROWSER, ttl=web_session.session_ttl())
    except InvalidCredentials:
        return render_template("web/login.html", next=_safe_next(), error=text("login.failed"),
                               username=username), 401
    except Forbidden:
        return render_template("web/login.html", next=_safe_next(), error=text("login.demo_password"),
                               username=username), 403
    except AppError as exc:
        if exc.status != 429:
            raise
        seconds = exc.headers.get("Retry-After", "60")
        page = render_template("web/login.html", next=_safe_next(), error=text("login.throttled", seconds=seconds),
                               username=username)
        return Response(page, status=429, headers={"Retry-After": seconds})
    web_session.start(issued)
    return redirect(_safe_next() or url_for("web.home"))


def _safe_next() -> str:
    """Where to go after the login: only a path of this site, never another site."""
    target = request.values.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else ""


@blp.post("/logout")
def logout() -> Response:
    web_session.end()
    return redirect(url_for("web.login", bye=1))


# -- pages ---------------------------------------------------------------------------------------

@blp.get("/")
@requires(Permission.READ_OWN_ACCOUNT)
def home() -> str | Response:
    user = authenticate_request().user
    if user.role is Role.LIAISON:
        return redirect(url_for("web.unit_orders"))
    return render_template("web/home.html", user=user)


@blp.get("/unit/orders")
@requires(Permission.READ_ORDERS)
def unit_orders() -> str:
    """The liaison's to-do list: the unit's open orders, the nearest deadline first."""
    far = dt.datetime(9999, 1, 1, tzinfo=dt.timezone.utc)
    rows = db.session().execute(
        visible_orders(current_reach()).add_columns(Finding)
        .where(Order.status.in_(OPEN_STATUSES))
        .order_by(sa.func.coalesce(Order.due_at, far), Order.id)
        .limit(current_app.config["PAGE_SIZE_MAX"])).all()
    return render_template("web/unit_orders.html", rows=rows, now=app_clock().now(), issued=OrderStatus.ISSUED)
