from __future__ import annotations

import marshmallow as ma

from server.notifications.models import DeliveryChannel, DeliveryStatus
from server.pagination import PageArgsSchema
from sync_protocol.fields import AwareDateTime, Integer, String


class NotificationSchema(ma.Schema):
    id = Integer()
    kind = String(metadata={"description": "e.g. order.reminder, order.escalated, digest.daily"})
    title = String()
    body = String()
    data = ma.fields.Dict(metadata={"description": "What the notice is about: order_id, unit, level, deadline ..."})
    created_at = AwareDateTime()
    read_at = AwareDateTime(allow_none=True)


class NotificationListArgsSchema(PageArgsSchema):
    unread = ma.fields.Boolean(load_default=False, metadata={"description": "Only notices not yet read"})


class ReadAllSchema(ma.Schema):
    marked = Integer(metadata={"description": "How many notices were unread"})


class DeliverySchema(ma.Schema):
    id = Integer()
    notification_id = Integer()
    user_id = Integer()
    channel = ma.fields.Enum(DeliveryChannel, by_value=True)
    status = ma.fields.Enum(DeliveryStatus, by_value=True)
    attempts = Integer()
    next_attempt_at = AwareDateTime()
    last_error = String()
    sent_at = AwareDateTime(allow_none=True)
    message_id = String(metadata={"description": "Shared by the deliveries sent in one digest"})
    created_at = AwareDateTime()
    kind = String(attribute="notification.kind")
    title = String(attribute="notification.title")


class DeliveryListArgsSchema(PageArgsSchema):
    status = ma.fields.Enum(DeliveryStatus, by_value=True, load_default=None,
                            metadata={"description": "pending, sent or dead (default: all)"})
