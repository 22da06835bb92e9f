"""The order API: the supervisors' queue, an order's file, and every workflow step.

Each step is one POST naming the step, so a client never sends a status to overwrite; the
state machine in :mod:`server.orders.services` decides, and refuses a step the order's state
does not allow with 409 ``illegal-transition``. Orders outside the caller's scope are 404.
"""

from __future__ import annotations

import uuid
from typing import Any

from urllib.parse import quote
from zoneinfo import ZoneInfo

import marshmallow as ma
import sqlalchemy as sa
from flask import Response as FlaskResponse, current_app, request as http_request
from sqlalchemy.orm import Session

from server import db
from server.api import Blueprint
from server.auth.models import User
from server.auth.permissions import Permission
from server.auth.scope import rounds_condition
from server.auth.security import authenticate_request, current_reach, current_user, requires
from server.bodies import read_json
from server.clock import app_clock
from server.errors import NotFound, ValidationFailed
from server.findings.models import Finding
from server.orders import policy as policies
from server.pagination import page_size
from server.orders import bulk, comments, export, queue, request_queue, services, steps
from server.orders.models import Order, OrderRequest, OrderStatus
from server.orders.schemas import (AssignSchema, BulkResultSchema, BulkSchema, CommentSchema, DecisionSchema,
                                   ExtendSchema, HistorySchema, IssuedFindingsSchema, QueueArgs,
                                   NewRequestSchema, OrderDetailSchema, OrderPageSchema, OrderQueryArgs, ParkSchema,
                                   PolicySchema, ReasonSchema, RequestPageSchema, RequestQueryArgs, RequestSchema,
                                   RequiredReasonSchema, RespondSchema, VerifySchema)
from server.rounds.models import Round
from server.worktime.limits import Limit

blp = Blueprint("orders", __name__, url_prefix="/api/v1",
                description="Rectification orders (整改通知 / 督办单): the queue, the workflow, the policy")


def _device() -> uuid.UUID | None:
    return authenticate_request().token.device_id


def _load(order_id: uuid.UUID, *, lock: bool = False) -> tuple[Order, Finding]:
    return bulk.visible_order(db.session(), current_reach(), order_id, lock=lock)


def _file(order: Order, finding: Finding) -> dict[str, Any]:
    return steps.order_file(db.session(), order, finding, viewer=current_user(), now=app_clock().now())


def _step(order_id: uuid.UUID, action: str, act: steps.Act) -> dict[str, Any]:
    return _file(*steps.take(db.session(), current_reach(), current_user(), order_id, action, act))


# -- reading -----------------------------------------------------------------------------------

@blp.get("/orders")
@requires(Permission.READ_ORDERS)
@blp.arguments(OrderQueryArgs, location="query", unknown=ma.RAISE)
@blp.response(200, OrderPageSchema)
def list_orders(args: dict[str, Any]) -> dict[str, Any]:
    """The issue queue: filtered, sorted (by deadline by default), paged, with counts per status.

    Every filter is in :class:`server.orders.schemas.QueueArgs`; an unknown one is a 422.
    """
    return queue.queue(db.session(), current_reach(), args["filters"], now=app_clock().now(),
                       tz=current_app.config["TIMEZONE"], sort=args["sort"], limit=page_size(args["limit"]),
                       after=args["after"])


@blp.get("/orders/<uuid:order_id>")
@requires(Permission.READ_ORDERS)
@blp.response(200, OrderDetailSchema)
def get_order(order_id: uuid.UUID) -> dict[str, Any]:
    """An order's whole file: responses, requests, escalations and every step taken."""
    return _file(*_load(order_id))


@blp.get("/orders/export/<any(csv, xlsx):fmt>")
@requires(Permission.READ_ORDERS)
@blp.arguments(QueueArgs, location="query", unknown=ma.RAISE)
@blp.response(200, content_type="text/csv")
@blp.alt_response(200, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                  description="The xlsx form", success=True)
def export_orders(args: dict[str, Any], fmt: str) -> FlaskResponse:
    """The filtered queue as CSV (UTF-8 with BOM) or XLSX, Chinese headers, in the list's sort;
    the same filters as GET /orders. At most XUNCHA_QUEUE_EXPORT_MAX_ROWS rows (422 above)."""
    session, reach, now = db.session(), current_reach(), app_clock().now()
    tz, ceiling = current_app.config["TIMEZONE"], current_app.config["QUEUE_EXPORT_MAX_ROWS"]
    per_status = queue.counts(session, reach, args["filters"], now=now, tz=tz)
    total = sum(n for status, n in per_status.items()
                if not args["filters"].statuses or OrderStatus(status) in args["filters"].statuses)
    if total > ceiling:
        raise ValidationFailed(f"{total} orders match; an export holds at most {ceiling}. Narrow the filter.")
    rows = queue.every_row(session, reach, args["filters"], now=now, tz=tz, sort=args["sort"], max_rows=ceiling)
    name = f"问题清单-{now.astimezone(ZoneInfo(tz)):%Y%m%d}.{fmt}"
    disposition = f"attachment; filename=orders.{fmt}; filename*=UTF-8''{quote(name)}"
    if fmt == "csv":
        # Built whole (bounded by the ceiling) rather than streamed: a stream would hold the
        # request's database session open for as long as the client takes to read it.
        return FlaskResponse("".join(export.csv_chunks(rows, tz)).encode("utf-8"), mimetype="text/csv",
                             headers={"Content-Disposition": disposition})
    return FlaskResponse(export.xlsx_bytes(rows, tz), headers={"Content-Disposition": disposition},
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@blp.post("/orders/<uuid:order_id>/comments")
@requires(Permission.READ_ORDERS)
@blp.arguments(CommentSchema)
@blp.response(201, HistorySchema)
def comment_on_order(body: dict[str, Any], order_id: uuid.UUID) -> Any:
    """A comment in the order's timeline: append-only, for anyone who may read the order."""
    session = db.session()
    order, _ = _load(order_id)
    bulk.check_may(session, current_reach(), "order.comment", order)
    event = comments.comment(session, app_clock(), order, current_user(), text=body["text"], device_id=_device())
    session.commit()
    return steps.as_seen_by(current_user(), event)


@blp.post("/orders/bulk/<any(verify, reject, assign):action>")
@requires(Permission.ACT_ON_ORDERS)
@blp.arguments(BulkSchema)
@blp.response(200, BulkResultSchema)
def bulk_step(body: dict[str, Any], action: str) -> dict[str, Any]:
    """Verify, reject or assign many orders: each checked and answered on its own; a refusal
    (404, 403, 409) undoes nothing of the others. At most XUNCHA_BULK_MAX_ITEMS ids."""
    session = db.session()
    results = bulk.apply(session, app_clock(), current_reach(), current_user(), bulk.BulkAction(action),
                         body["order_ids"], body, device_id=_device())
    session.commit()
    done = sum(1 for r in results if r["ok"])
    return {"results": results, "done": done, "refused": len(results) - done}


# -- steps -------------------------------------------------------------------------------------

@blp.post("/orders/<uuid:order_id>/assign")
@requires(Permission.ACT_ON_ORDERS)
@blp.arguments(AssignSchema)
@blp.response(200, OrderDetailSchema)
def assign_order(body: dict[str, Any], order_id: uuid.UUID) -> dict[str, Any]:
    """Send a triage order to a unit, or reassign (改派) it; the unit's clock starts anew."""
    def act(session: Session, order: Order, finding: Finding, user: User) -> None:
        unit = bulk.unit_for_assignment(session, finding, body["unit_id"])
        services.assign(session, app_clock(), order, user, unit_id=unit.id, reason=body["reason"],
                        device_id=_device())
    return _step(order_id, "order.assign", act)


@blp.post("/orders/<uuid:order_id>/respond")
@requires(Permission.ACT_ON_ORDERS)
@blp.arguments(RespondSchema)
@blp.response(200, OrderDetailSchema)
def respond_to_order(body: dict[str, Any], order_id: uuid.UUID) -> dict[str, Any]:
    """The unit's answer (整改反馈) with after-photos named by SHA-256 (uploaded over tus)."""
    return _step(order_id, "order.respond", lambda s, o, f, u: steps.respond(
        s, app_clock(), o, u, response_id=body["response_id"] or uuid.uuid4(), measures=body["measures"],
        photos=body["photos"], device_id=_device()))


@blp.post("/orders/<uuid:order_id>/verify")
@requires(Permission.ACT_ON_ORDERS)
@blp.arguments(VerifySchema)
@blp.response(200, OrderDetailSchema)
def verify_order(body: dict[str, Any], order_id: uuid.UUID) -> dict[str, Any]:
    """复查 passed: closed (销号). Not by the person who responded, never by the unit."""
    return _step(order_id, "order.verify",
                 lambda s, o, f, u: services.verify(s, app_clock(), o, u, note=body["note"], device_id=_device()))


@blp.post("/orders/<uuid:order_id>/reject")
@requires(Permission.ACT_ON_ORDERS)
@blp.arguments(RequiredReasonSchema)
@blp.response(200, OrderDetailSchema)
def reject_order(body: dict[str, Any], order_id: uuid.UUID) -> dict[str, Any]:
    """复查 failed: back to the unit with the reason and a new deadline."""
    return _step(order_id, "order.reject",
                 lambda s, o, f, u: services.reject(s, app_clock(), o, u, reason=body["reason"],
                                                    device_id=_device()))


@blp.post("/orders/<uuid:order_id>/extend")
@requires(Permission.ACT_ON_ORDERS)
@blp.arguments(ExtendSchema)
@blp.response(200, OrderDetailSchema)
def extend_order(body: dict[str, Any], order_id: uuid.UUID) -> dict[str, Any]:
    """延期 by hand: ``extra`` working time on the current deadline, or a new deadline ``until``."""
    extra = Limit.parse(body["extra"]) if body["extra"] else None
    return _step(order_id, "order.extend",
                 lambda s, o, f, u: services.extend(s, app_clock(), o, u, extra=extra, until=body["until"],
                                                    reason=body["reason"], device_id=_device()))


@blp.post("/orders/<uuid:order_id>/escalate")
@requires(Permission.ACT_ON_ORDERS)
@blp.arguments(ReasonSchema)
@blp.response(200, OrderDetailSchema)
def escalate_order(body: dict[str, Any], order_id: uuid.UUID) -> dict[str, Any]:
    """Escalate by hand to the next level (督办) with its new deadline from now."""
    return _step(order_id, "order.escalate", lambda s, o, f, u: services.escalate(
        s, app_clock(), o, services.Actor(u, _device()), reason=body["reason"] or "人工督办"))


@blp.post("/orders/<uuid:order_id>/park")
@requires(Permission.ACT_ON_ORDERS)
@blp.arguments(ParkSchema)
@blp.response(200, OrderDetailSchema)
def park_order(body: dict[str, Any], order_id: uuid.UUID) -> dict[str, Any]:
    """挂账 by hand: into the issue bank until ``review_at``, the clock paused."""
    return _step(order_id, "order.park",
                 lambda s, o, f, u: services.park(s, app_clock(), o, u, review_at=body["review_at"],
                                                  reason=body["reason"], device_id=_device()))


@blp.post("/orders/<uuid:order_id>/resume")
@requires(Permission.ACT_ON_ORDERS)
@blp.arguments(ReasonSchema)
@blp.response(200, OrderDetailSchema)
def resume_order(body: dict[str, Any], order_id: uuid.UUID) -> dict[str, Any]:
    """挂账恢复: the clock runs again with the time that was left."""
    return _step(order_id, "order.resume",
                 lambda s, o, f, u: services.resume(s, app_clock(), o, u, reason=body["reason"],
                                                    device_id=_device()))


@blp.post("/orders/<uuid:order_id>/void")
@requires(Permission.ACT_ON_ORDERS)
@blp.arguments(RequiredReasonSchema)
@blp.response(200, OrderDetailSchema)
def void_order(body: dict[str, Any], order_id: uuid.UUID) -> dict[str, Any]:
    """作废 by a supervisor."""
    return _step(order_id, "order.void",
                 lambda s, o, f, u: services.void(s, app_clock(), o, u, reason=body["reason"], device_id=_device()))


# -- requests ----------------------------------------------------------------------------------

@blp.post("/orders/<uuid:order_id>/requests")
@requires(Permission.ACT_ON_ORDERS)
@blp.arguments(NewRequestSchema)
@blp.response(201, RequestSchema)
def make_request(body: dict[str, Any], order_id: uuid.UUID) -> OrderRequest:
    """The unit asks for 延期 (``extra``), 回退, 挂账 (``review_at``) or 作废, with a reason."""
    session = db.session()
    order, _ = _load(order_id, lock=True)
    bulk.check_may(session, current_reach(), "order.request", order)
    req = services.request(session, app_clock(), order, current_user(), kind=body["kind"], reason=body["reason"],
                           extra=Limit.parse(body["extra"]) if body["extra"] else None, review_at=body["review_at"],
                           request_id=body["id"], device_id=_device())
    session.commit()
    return req


@blp.get("/order-requests")
@requires(Permission.READ_ORDERS)
@blp.arguments(RequestQueryArgs, location="query", unknown=ma.RAISE)
@blp.response(200, RequestPageSchema)
def list_requests(args: dict[str, Any]) -> dict[str, Any]:
    """Requests in the caller's scope, oldest first (pending ones by default), each with its
    order's unit, problem and deadline; paged."""
    return request_queue.list_requests(db.session(), current_reach(), status=args["status"],
                                       kinds=tuple(args["kind"]), unit_ids=tuple(args["unit_id"]),
                                       limit=page_size(args["limit"]), after=args["after"], now=app_clock().now())


@blp.post("/order-requests/<uuid:request_id>/decision")
@requires(Permission.ACT_ON_ORDERS)
@blp.arguments(DecisionSchema)
@blp.response(200, OrderDetailSchema)
def decide_request(body: dict[str, Any], request_id: uuid.UUID) -> dict[str, Any]:
    """A supervisor approves or refuses; approval takes the step the unit asked for."""
    session = db.session()
    req = session.get(OrderRequest, request_id)
    if req is None:
        raise NotFound(f"No request {request_id}.")
    order, finding = _load(req.order_id, lock=True)
    bulk.check_may(session, current_reach(), "order_request.decide", order)
    services.decide(session, app_clock(), req, current_user(), approve=body["approve"], note=body["note"],
                    device_id=_device())
    session.commit()
    return _file(order, finding)


# -- rounds and the policy ---------------------------------------------------------------------

@blp.post("/rounds/<int:round_id>/findings/issue")
@requires(Permission.ACT_ON_ORDERS)
@blp.response(200, IssuedFindingsSchema)
def issue_findings(round_id: int) -> dict[str, Any]:
    """Publish an unannounced round's findings (暗访结果下发): the units see them, their clocks start."""
    session = db.session()
    round_ = session.scalar(sa.select(Round).where(Round.id == round_id, rounds_condition(current_user())))
    if round_ is None:
        raise NotFound(f"No round {round_id}.")
    started = services.issue_round_findings(session, app_clock(), round_, current_user())
    session.commit()
    return {"orders_started": started}


@blp.get("/escalation-policy")
@requires(Permission.READ_ORDERS)
@blp.response(200, PolicySchema)
def get_policy() -> dict[str, Any]:
    """The policy new orders follow (older orders keep the version they began under)."""
    session = db.session()
    current = policies.current_policy(session, app_clock())
    session.commit()
    return policies.describe(current)


@blp.get("/escalation-policy/<int:version>")
@requires(Permission.READ_ORDERS)
@blp.response(200, PolicySchema)
def get_policy_version(version: int) -> dict[str, Any]:
    try:
        return policies.describe(policies.policy(db.session(), version))
    except LookupError:
        raise NotFound(f"No escalation policy version {version}.") from None


@blp.put("/escalation-policy")
@requires(Permission.MANAGE_POLICY)
@blp.response(200, PolicySchema)
def put_policy() -> dict[str, Any]:
    """Load a new version (JSON, the same shape as the TOML file); every error is listed at once."""
    document = read_json(http_request)
    if not isinstance(document, dict):
        raise ValidationFailed("Send the policy as a JSON object.")
    session = db.session()
    stored = policies.store(session, app_clock(), document, source="api", actor_id=current_user().id)
    session.commit()
    return policies.describe(stored)
