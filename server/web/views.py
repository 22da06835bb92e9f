"""The console's pages. Each view authenticates through the session cookie, calls a service,
and renders a template; errors become a page in the console's language (404 for what the
caller may not see, as in the API: a liaison learns nothing of another unit's orders)."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlencode
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma
import sqlalchemy as sa
from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from sqlalchemy.orm import Session

from server import db
from server.auth import login_flow, services
from server.auth.models import Role, User
from server.auth.permissions import Permission, allowed
from server.auth.scope import visible_orders
from server.auth.security import authenticate_request, current_reach, requires
from server.clock import app_clock
from server.errors import AppError, Forbidden, InvalidCredentials, NotFound, Unauthenticated, ValidationFailed
from server.findings.models import Finding
from server.notifications.models import Notification
from server.orders import services as order_services
from server.orders import bulk, comments, steps
from server.orders import queue as order_queue
from server.orders.models import OPEN_STATUSES, Order, OrderRequest, OrderStatus, RequestKind
from server.orders.queue import QueueSort
from server.orders.schemas import OrderQueryArgs
from server.units.models import Unit
from server.web import dashboard as stats
from server.web import inspector as inspection
from server.web import maps as order_map
from server.web import session as web_session
from server.web.text import label, text
from server.worktime.limits import Limit

blp = Blueprint("web", __name__, url_prefix="/console", template_folder="templates", static_folder="static",
                static_url_path="/static")

#: The unit's most recently finished orders shown under its open ones.
HISTORY_SHOWN = 50
#: The latest notices shown above a liaison's orders.
NOTICES_SHOWN = 10
SHA256 = re.compile(r"[0-9a-f]{64}")
#: The device a console login is registered as.
BROWSER = services.DeviceInfo(name="浏览器", platform="web")


@blp.context_processor
def catalogue() -> dict[str, Any]:
    from flask import g

    principal = g.get("principal")
    return {"_": text, "label": label, "user": principal.user if principal is not None else None}


@blp.app_template_filter("local")
def local_time(value: dt.datetime | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time (or its ISO text, as audit data keeps it) as the campaign's time zone reads it."""
    if not value:
        return "—"
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
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
    home = {Role.LIAISON: "web.unit_orders", Role.INSPECTOR: "web.inspector_page"}.get(user.role, "web.queue")
    return redirect(url_for(home))


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
    history = db.session().execute(
        visible_orders(current_reach()).add_columns(Finding)
        .where(Order.status.not_in(OPEN_STATUSES))
        .order_by(sa.func.coalesce(Order.closed_at, Order.updated_at).desc(), Order.id).limit(HISTORY_SHOWN)).all()
    notices = db.session().scalars(sa.select(Notification).where(Notification.user_id == authenticate_request().user.id)
                                   .order_by(Notification.id.desc()).limit(NOTICES_SHOWN)).all()
    return render_template("web/unit_orders.html", rows=rows, now=app_clock().now(), issued=OrderStatus.ISSUED,
                           notices=notices, history=history)


# -- an order ------------------------------------------------------------------------------------
# The order's file and its steps are the order API's (server/orders/steps.py): the same scope
# read (404 outside it), the same write rule, the same services, one commit.

@blp.get("/orders/<uuid:order_id>")
@requires(Permission.READ_ORDERS)
def order_page(order_id: uuid.UUID) -> str:
    session = db.session()
    user = authenticate_request().user
    file = steps.order_file(session, *bulk.visible_order(session, current_reach(), order_id), viewer=user,
                            now=app_clock().now())
    units = [] if user.role is Role.LIAISON else session.execute(
        sa.select(Unit.id, Unit.name).where(Unit.campaign_id == file["finding"]["campaign_id"])
        .order_by(Unit.name)).all()
    actors = {e.actor_id if hasattr(e, "actor_id") else e["actor_id"] for e in file["history"]} - {None}
    names = dict(session.execute(sa.select(User.id, User.display_name).where(User.id.in_(actors))).all())
    return render_template("web/order.html", order=file, units=units, names=names, user=user,
                           map=order_map.point_map(session, file["finding"]),
                           staff=user.role is not Role.LIAISON, kinds=(RequestKind.EXTENSION, RequestKind.RETURN),
                           chunk_size=current_app.config["CONSOLE_UPLOAD_CHUNK_BYTES"])


def _form(name: str, *, required: bool = False, limit: int = 5000) -> str:
    value = request.form.get(name, "").strip()
    if required and not value:
        raise ValidationFailed(f"{name} is required.", errors=[{"field": name, "message": "required"}])
    if len(value) > limit:
        raise ValidationFailed(f"{name} is too long.", errors=[{"field": name, "message": f"at most {limit}"}])
    return value


def _done(order_id: uuid.UUID) -> Response:
    # Post/redirect/get: a reload does not take the step twice.
    return redirect(url_for("web.order_page", order_id=order_id))


def _device() -> uuid.UUID:
    return authenticate_request().token.device_id


def _step(order_id: uuid.UUID, action: str, act: steps.Act) -> None:
    steps.take(db.session(), current_reach(), authenticate_request().user, order_id, action, act)


@blp.post("/orders/<uuid:order_id>/respond")
@requires(Permission.ACT_ON_ORDERS)
def respond(order_id: uuid.UUID) -> Response:
    measures = _form("measures", required=True)
    photos = request.form.getlist("photos")
    if len(photos) > 50 or not all(SHA256.fullmatch(p) for p in photos):
        raise ValidationFailed("Photos are named by SHA-256.", errors=[{"field": "photos", "message": "bad hash"}])

    _step(order_id, "order.respond", lambda s, o, f, u: steps.respond(
        s, app_clock(), o, u, response_id=uuid.uuid4(), measures=measures, photos=photos, device_id=_device()))
    return _done(order_id)


@blp.post("/orders/<uuid:order_id>/request")
@requires(Permission.ACT_ON_ORDERS)
def ask(order_id: uuid.UUID) -> Response:
    try:
        kind = RequestKind(request.form.get("kind", ""))
    except ValueError:
        raise ValidationFailed("Unknown request kind.", errors=[{"field": "kind", "message": "unknown"}]) from None
    reason = _form("reason", required=True, limit=2000)
    extra = _form("extra", limit=16)
    try:
        limit = Limit.parse(extra) if extra else None
    except ValueError:
        raise ValidationFailed("Not a time limit.", errors=[{"field": "extra", "message": 'e.g. "3wd"'}]) from None
    _step(order_id, "order.request", lambda s, o, f, u: order_services.request(
        s, app_clock(), o, u, kind=kind, reason=reason, extra=limit, device_id=_device()))
    return _done(order_id)


@blp.post("/orders/<uuid:order_id>/verify")
@requires(Permission.ACT_ON_ORDERS)
def verify(order_id: uuid.UUID) -> Response:
    note = _form("note", limit=2000)
    _step(order_id, "order.verify", lambda s, o, f, u: order_services.verify(
        s, app_clock(), o, u, note=note, device_id=_device()))
    return _done(order_id)


@blp.post("/orders/<uuid:order_id>/reject")
@requires(Permission.ACT_ON_ORDERS)
def reject(order_id: uuid.UUID) -> Response:
    reason = _form("reason", required=True, limit=2000)
    _step(order_id, "order.reject", lambda s, o, f, u: order_services.reject(
        s, app_clock(), o, u, reason=reason, device_id=_device()))
    return _done(order_id)


@blp.post("/orders/<uuid:order_id>/escalate")
@requires(Permission.ACT_ON_ORDERS)
def escalate(order_id: uuid.UUID) -> Response:
    reason = _form("reason", limit=2000)
    _step(order_id, "order.escalate", lambda s, o, f, u: order_services.escalate(
        s, app_clock(), o, order_services.Actor(u, _device()), reason=reason))
    return _done(order_id)


@blp.post("/orders/<uuid:order_id>/assign")
@requires(Permission.ACT_ON_ORDERS)
def assign(order_id: uuid.UUID) -> Response:
    try:
        unit_id = int(request.form.get("unit_id", ""))
    except ValueError:
        raise ValidationFailed("Choose a unit.", errors=[{"field": "unit_id", "message": "required"}]) from None
    reason = _form("reason", limit=2000)

    def act(session: Session, order: Order, finding: Finding, user: User) -> None:
        unit = bulk.unit_for_assignment(session, finding, unit_id)
        order_services.assign(session, app_clock(), order, user, unit_id=unit.id, reason=reason, device_id=_device())

    _step(order_id, "order.assign", act)
    return _done(order_id)


@blp.post("/orders/<uuid:order_id>/comment")
@requires(Permission.READ_ORDERS)
def comment(order_id: uuid.UUID) -> Response:
    text_ = _form("text", required=True, limit=2000)
    _step(order_id, "order.comment", lambda s, o, f, u: comments.comment(
        s, app_clock(), o, u, text=text_, device_id=_device()))
    return _done(order_id)


@blp.post("/orders/<uuid:order_id>/requests/<uuid:request_id>")
@requires(Permission.ACT_ON_ORDERS)
def decide(order_id: uuid.UUID, request_id: uuid.UUID) -> Response:
    approve = request.form.get("approve") == "1"
    note = _form("note", limit=2000)

    def act(session: Session, order: Order, finding: Finding, user: User) -> None:
        req = session.get(OrderRequest, request_id)
        if req is None or req.order_id != order.id:
            raise NotFound(f"No request {request_id} on this order.")
        order_services.decide(session, app_clock(), req, user, approve=approve, note=note, device_id=_device())

    _step(order_id, "order_request.decide", act)
    return _done(order_id)


# -- the issue queue -----------------------------------------------------------------------------
# The filters are the API's (GET /api/v1/orders takes the same names), kept in the URL so a view
# of the queue can be bookmarked and sent on; the query is the queue service's.

QUEUE_PAGE = 50


def _queue_args() -> dict[str, Any]:
    """The URL's filters through the API's own schema; empty form fields mean "any"."""
    schema = OrderQueryArgs()
    raw: dict[str, Any] = {}
    for name, field in schema.fields.items():
        values = [v for v in request.args.getlist(name) if v.strip()]
        if values:
            raw[name] = values if isinstance(field, ma.fields.List) else values[0]
    try:
        return schema.load(raw, unknown=ma.EXCLUDE)
    except ma.ValidationError as exc:
        raise ValidationFailed("The queue's filters did not validate.",
                               errors=[{"field": k, "message": str(v)} for k, v in exc.messages.items()]) from None


@blp.get("/queue")
@requires(Permission.READ_ORDERS)
def queue() -> str:
    session = db.session()
    now = app_clock().now()
    args = _queue_args()
    found = order_queue.queue(session, current_reach(), args["filters"], now=now, tz=current_app.config["TIMEZONE"],
                              sort=args["sort"], limit=QUEUE_PAGE, after=args["after"])
    campaign = authenticate_request().user.campaign_id
    units = session.execute(sa.select(Unit.id, Unit.name).where(Unit.campaign_id == campaign)
                            .order_by(Unit.name)).all()
    categories = session.scalars(sa.select(Finding.category).where(Finding.campaign_id == campaign)
                                 .distinct().order_by(Finding.category)).all()
    return render_template("web/queue.html", found=found, filters=args["filters"], sort=args["sort"],
                           statuses=list(OrderStatus), sorts=list(QueueSort), units=units, categories=categories,
                           queue_url=_queue_url, first_page=not args["after"], export=_export_url,
                           # a unit answers its own orders one by one; bulk steps are the verifiers'
                           may_act=authenticate_request().caller.role is not Role.LIAISON)


def _export_url(fmt: str) -> str:
    """The API's export of this very view of the queue (same filter names, no paging)."""
    kept = [(k, v) for k, v in request.args.items(multi=True) if k != "after" and v.strip()]
    return url_for("orders.export_orders", fmt=fmt) + ("?" + urlencode(kept) if kept else "")


def _queue_url(**changes: str) -> str:
    """This queue view's address with some arguments replaced (an empty value drops one); a
    change of filter starts again at the first page."""
    kept = [(k, v) for k, v in request.args.items(multi=True) if k not in changes and k != "after" and v.strip()]
    kept += [(k, v) for k, v in changes.items() if v]
    return url_for("web.queue") + ("?" + urlencode(kept) if kept else "")


# -- map and dashboard ---------------------------------------------------------------------------

@blp.get("/map")
@requires(Permission.READ_ORDERS)
def map_page() -> str:
    session = db.session()
    zones, rows = stats.map_points(session, current_reach(), authenticate_request().user.campaign_id)
    drawn = order_map.draw(zones, [(f.longitude, f.latitude, (o, f)) for o, f in rows], width=900, height=600)
    return render_template("web/map.html", map=drawn, count=len(rows), limit=stats.MAP_POINTS)


@blp.get("/dashboard")
@requires(Permission.READ_ORDERS)
def dashboard() -> str:
    now = app_clock().now()
    board = stats.dashboard(db.session(), current_reach(), now=now, tz=current_app.config["TIMEZONE"])
    bulletin = None
    if allowed(authenticate_request().caller.role, Permission.MANAGE_REPORTS):
        today = now.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()
        bulletin = url_for("reports.bulletin_html", start=(today - dt.timedelta(days=6)).isoformat(),
                           end=today.isoformat())
    return render_template("web/dashboard.html", board=board, ageing=stats.AGEING, bulletin=bulletin)


@blp.get("/me")
@requires(Permission.READ_OWN_ACCOUNT)
def inspector_page() -> str:
    """An inspector's rounds, units, phones and the findings they reported (read-only)."""
    session = db.session()
    user = authenticate_request().user
    return render_template("web/inspector.html", rounds=inspection.rounds_of(session, user.id),
                           devices=inspection.devices_of(session, user.id),
                           reported=inspection.reported_by(session, current_reach()))


@blp.post("/queue/bulk")
@requires(Permission.ACT_ON_ORDERS)
def queue_bulk() -> Response:
    """Verify, reject or reassign the orders ticked in the queue (the API's bulk service: each
    order on its own, a refusal undoes none of the others); back to the same view of the queue."""
    try:
        action = bulk.BulkAction(request.form.get("action", ""))
        order_ids = [uuid.UUID(i) for i in request.form.getlist("order_id")]
        unit_id = int(request.form["unit_id"]) if request.form.get("unit_id") else None
    except ValueError:
        raise ValidationFailed("Tick orders and choose an action.",
                               errors=[{"field": "action", "message": "required"}]) from None
    if not order_ids or len(order_ids) > current_app.config["BULK_MAX_ITEMS"]:
        raise ValidationFailed("Tick between one order and BULK_MAX_ITEMS.",
                               errors=[{"field": "order_id", "message": "count"}])
    session = db.session()
    results = bulk.apply(session, app_clock(), current_reach(), authenticate_request().user, action, order_ids,
                         {"note": _form("note", limit=2000), "reason": _form("reason", limit=2000),
                          "unit_id": unit_id}, device_id=_device())
    session.commit()
    done = sum(1 for r in results if r["ok"])
    flash(text("bulk.result", done=done, refused=len(results) - done))
    back = request.form.get("back", "")
    return redirect(back if back.startswith("/console/queue") else url_for("web.queue"))
