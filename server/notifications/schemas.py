from __future__ import annotations

import marshmallow as ma

from server.notifications.models import DeliveryChannel, DeliveryStatus
from server.pagination import PageArgsSchema


class NotificationSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"description": "e.g. order.reminder, order.escalated, digest.daily"})
    title = ma.fields.String()
    body = ma.fields.String()
    data = ma.fields.Dict(metadata={"description": "What the notice is about: order_id, unit, level, deadline ..."})
    created_at = ma.fields.AwareDateTime()
    read_at = ma.fields.AwareDateTime(allow_none=True)


class NotificationListArgsSchema(PageArgsSchema):
    unread = ma.fields.Boolean(load_default=False, metadata={"description": "Only notices not yet read"})


class ReadAllSchema(ma.Schema):
    marked = ma.fields.Integer(metadata={"description": "How many notices were unread"})


class DeliverySchema(ma.Schema):
    id = ma.fields.Integer()
    notification_id = ma.fields.Integer()
    user_id = ma.fields.Integer()
    channel = ma.fields.Enum(DeliveryChannel, by_value=True)
    status = ma.fields.Enum(DeliveryStatus, by_value=True)
    attempts = ma.fields.Integer()
    next_attempt_at = ma.fields.AwareDateTime()
    last_error = ma.fields.String()
    sent_at = ma.fields.AwareDateTime(allow_none=True)
    message_id = ma.fields.String(metadata={"description": "Shared by the deliveries sent in one digest"})
    created_at = ma.fields.AwareDateTime()
    kind = ma.fields.String(attribute="notification.kind")
    title = ma.fields.String(attribute="notification.title")


class DeliveryListArgsSchema(PageArgsSchema):
    status = ma.fields.Enum(DeliveryStatus, by_value=True, load_default=None,
                            metadata={"description": "pending, sent or dead (default: all)"})
