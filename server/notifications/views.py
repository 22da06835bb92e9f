"""The caller's notices (the in-app feed), and the outbox as admins see it."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from server import db
from server.api import Blueprint
from server.auth.permissions import Permission
from server.auth.security import current_user, requires
from server.clock import app_clock
from server.notifications import services
from server.notifications.models import Delivery, Notification
from server.notifications.schemas import (DeliveryListArgsSchema, DeliverySchema, NotificationListArgsSchema,
                                          NotificationSchema, ReadAllSchema)
from server.pagination import page_schema, paginate

blp = Blueprint("notifications", __name__, url_prefix="/api/v1",
                description="The caller's notices (提醒, 督办, 日报); phones also receive them in sync pulls")
admin_blp = Blueprint("deliveries", __name__, url_prefix="/api/v1/admin",
                      description="Notices on their way by email and webhook; dead letters and resending")


@blp.get("/notifications")
@requires(Permission.READ_NOTIFICATIONS)
@blp.arguments(NotificationListArgsSchema, location="query")
@blp.response(200, page_schema(NotificationSchema))
def list_notifications(args: dict[str, Any]) -> dict[str, Any]:
    """The caller's own notices, newest first."""
    stmt = sa.select(Notification).where(Notification.user_id == current_user().id)
    if args["unread"]:
        stmt = stmt.where(Notification.read_at.is_(None))
    return paginate(db.session(), stmt, Notification.id, args, newest_first=True)


@blp.post("/notifications/<int:notification_id>/read")
@requires(Permission.READ_NOTIFICATIONS)
@blp.response(200, NotificationSchema)
def mark_read(notification_id: int) -> Notification:
    """Mark one of the caller's notices read; marking it again changes nothing."""
    session = db.session()
    notice = services.mark_read(session, app_clock(), current_user(), notification_id)
    session.commit()
    return notice


@blp.post("/notifications/read-all")
@requires(Permission.READ_NOTIFICATIONS)
@blp.response(200, ReadAllSchema)
def mark_all_read() -> dict[str, int]:
    session = db.session()
    marked = services.mark_all_read(session, app_clock(), current_user())
    session.commit()
    return {"marked": marked}


@admin_blp.get("/deliveries")
@requires(Permission.MANAGE_DELIVERIES)
@admin_blp.arguments(DeliveryListArgsSchema, location="query")
@admin_blp.response(200, page_schema(DeliverySchema))
def list_deliveries(args: dict[str, Any]) -> dict[str, Any]:
    """Outbox rows, newest first; ``?status=dead`` lists the dead letters."""
    stmt = sa.select(Delivery)
    if args["status"] is not None:
        stmt = stmt.where(Delivery.status == args["status"])
    return paginate(db.session(), stmt, Delivery.id, args, newest_first=True)


@admin_blp.post("/deliveries/<int:delivery_id>/resend")
@requires(Permission.MANAGE_DELIVERIES)
@admin_blp.response(200, DeliverySchema)
def resend(delivery_id: int) -> Delivery:
    """Send a dead delivery again, with a fresh set of attempts, at the job's next run."""
    session = db.session()
    delivery = services.resend(session, app_clock(), delivery_id, current_user().id)
    session.commit()
    return delivery
