"""What the order API reads and writes."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from server.orders.models import OrderStatus, RequestKind
from server.pagination import page_limit
from server.worktime.limits import Limit
from sync_protocol.fields import AwareDateTime, Integer, String


def _limit(value: str) -> None:
    try:
        Limit.parse(value)
    except ValueError as exc:
        raise ma.ValidationError(str(exc)) from None


class OrderSchema(ma.Schema):
    id = ma.fields.UUID()
    finding_id = ma.fields.UUID()
    unit_id = Integer(allow_none=True)
    unit_name = String(allow_none=True)
    category = String()
    description = String()
    severity = String()
    level = Integer()
    level_name = String()
    colour = String()
    status = ma.fields.Enum(OrderStatus, by_value=True)
    issued_at = AwareDateTime()
    due_at = AwareDateTime(allow_none=True)
    due_provisional = ma.fields.Boolean()
    overdue = ma.fields.Boolean()
    time_limit = String()
    review_at = AwareDateTime(allow_none=True)
    paused_remaining_s = ma.fields.Float(allow_none=True)
    bounces = Integer()
    needs_supervisor = ma.fields.Boolean()
    rebound_of_id = ma.fields.UUID(allow_none=True)
    policy_version = Integer()
    closed_at = AwareDateTime(allow_none=True)
    version = Integer()


class ResponseSchema(ma.Schema):
    id = ma.fields.UUID()
    responder_id = Integer()
    measures = String()
    responded_at = AwareDateTime()
    late = ma.fields.Boolean()


class RequestSchema(ma.Schema):
    id = ma.fields.UUID()
    order_id = ma.fields.UUID()
    kind = ma.fields.Enum(RequestKind, by_value=True)
    status = String(attribute="status.value")
    reason = String()
    extra = String()
    review_at = AwareDateTime(allow_none=True)
    requested_by = Integer()
    requested_at = AwareDateTime()
    decided_by = Integer(allow_none=True)
    decided_at = AwareDateTime(allow_none=True)
    decision_note = String()


class EscalationSchema(ma.Schema):
    level = Integer()
    escalated_at = AwareDateTime()
    previous_due_at = AwareDateTime(allow_none=True)
    due_at = AwareDateTime(allow_none=True)
    escalated_by = Integer(allow_none=True)
    reason = String()


class HistorySchema(ma.Schema):
    occurred_at = AwareDateTime()
    action = String()
    actor_kind = String(attribute="actor_kind.value")
    actor_id = Integer(allow_none=True)
    device_id = ma.fields.UUID(allow_none=True)
    reason = String()
    data = ma.fields.Dict()


class OrderDetailSchema(OrderSchema):
    responses = ma.fields.List(ma.fields.Nested(ResponseSchema))
    requests = ma.fields.List(ma.fields.Nested(RequestSchema))
    escalations = ma.fields.List(ma.fields.Nested(EscalationSchema))
    history = ma.fields.List(ma.fields.Nested(HistorySchema))


class OrderQueryArgs(ma.Schema):
    status = ma.fields.List(ma.fields.Enum(OrderStatus, by_value=True), load_default=None)
    level = Integer(load_default=None, validate=ma.validate.Range(min=1))
    unit_id = Integer(load_default=None)
    overdue = ma.fields.Boolean(load_default=None)
    needs_supervisor = ma.fields.Boolean(load_default=None)
    limit = page_limit()
    after = String(load_default=None, validate=ma.validate.Length(max=200),
                   metadata={"description": "The next_after value of the previous page"})


class OrderPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(OrderSchema))
    next_after = String(allow_none=True)


class ReasonSchema(ma.Schema):
    reason = String(load_default="", validate=ma.validate.Length(max=2000))


class RequiredReasonSchema(ma.Schema):
    reason = String(required=True, validate=ma.validate.Length(min=1, max=2000))


class AssignSchema(ReasonSchema):
    unit_id = Integer(required=True, strict=True)


class RespondSchema(ma.Schema):
    response_id = ma.fields.UUID(load_default=None)
    measures = String(required=True, validate=ma.validate.Length(min=1, max=5000))
    photos = ma.fields.List(String(validate=ma.validate.Regexp(r"^[0-9a-f]{64}$")), load_default=list,
                            validate=ma.validate.Length(max=50))


class VerifySchema(ma.Schema):
    note = String(load_default="", validate=ma.validate.Length(max=2000))


class ExtendSchema(RequiredReasonSchema):
    extra = String(load_default=None, validate=_limit, metadata={"description": 'e.g. "3wd", "8wh"'})
    until = AwareDateTime(load_default=None)

    @ma.validates_schema
    def _one(self, data: dict[str, Any], **_: Any) -> None:
        if (data.get("extra") is None) == (data.get("until") is None):
            raise ma.ValidationError("give exactly one of extra and until", "extra")


class ParkSchema(RequiredReasonSchema):
    review_at = AwareDateTime(required=True)


class NewRequestSchema(RequiredReasonSchema):
    id = ma.fields.UUID(load_default=None)
    kind = ma.fields.Enum(RequestKind, by_value=True, required=True)
    extra = String(load_default=None, validate=_limit)
    review_at = AwareDateTime(load_default=None)


class DecisionSchema(ma.Schema):
    approve = ma.fields.Boolean(required=True)
    note = String(load_default="", validate=ma.validate.Length(max=2000))


class RequestQueryArgs(ma.Schema):
    status = String(load_default="pending",
                              validate=ma.validate.OneOf(["pending", "approved", "refused", "withdrawn"]))


class PolicySchema(ma.Schema):
    version = Integer()
    name = String()
    levels = ma.fields.List(ma.fields.Dict())
    limits = ma.fields.List(ma.fields.Dict())
    reminders = ma.fields.List(ma.fields.Dict())
    leadership = ma.fields.List(String())
    rebound_days = Integer()
    rebound_distance_m = ma.fields.Float()
    max_bounces = Integer()
    measures = ma.fields.List(ma.fields.Dict(), metadata={"description": "the bulletin's action and measure "
                                                                            "word per category"})


class IssuedFindingsSchema(ma.Schema):
    orders_started = Integer()
