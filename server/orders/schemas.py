"""What the order API reads and writes."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app

from server.findings.schemas import FindingSchema, PhotoEvidenceSchema
from server.attachments.models import FlagKind
from server.orders.models import OrderStatus, RequestKind, RequestStatus
from server.orders.queue import QueueFilters, QueueSort
from server.worktime.limits import Limit


def _limit(value: str) -> None:
    try:
        Limit.parse(value)
    except ValueError as exc:
        raise ma.ValidationError(str(exc)) from None


class OrderSchema(ma.Schema):
    id = ma.fields.UUID()
    finding_id = ma.fields.UUID()
    unit_id = ma.fields.Integer(allow_none=True)
    unit_name = ma.fields.String(allow_none=True)
    category = ma.fields.String()
    description = ma.fields.String()
    severity = ma.fields.String()
    level = ma.fields.Integer()
    level_name = ma.fields.String()
    colour = ma.fields.String()
    status = ma.fields.Enum(OrderStatus, by_value=True)
    issued_at = ma.fields.AwareDateTime()
    due_at = ma.fields.AwareDateTime(allow_none=True)
    due_provisional = ma.fields.Boolean()
    overdue = ma.fields.Boolean()
    time_limit = ma.fields.String()
    review_at = ma.fields.AwareDateTime(allow_none=True)
    paused_remaining_s = ma.fields.Float(allow_none=True)
    bounces = ma.fields.Integer()
    needs_supervisor = ma.fields.Boolean()
    rebound_of_id = ma.fields.UUID(allow_none=True)
    policy_version = ma.fields.Integer()
    closed_at = ma.fields.AwareDateTime(allow_none=True)
    version = ma.fields.Integer()


class ResponseSchema(ma.Schema):
    id = ma.fields.UUID()
    responder_id = ma.fields.Integer()
    measures = ma.fields.String()
    responded_at = ma.fields.AwareDateTime()
    late = ma.fields.Boolean()


class RequestSchema(ma.Schema):
    id = ma.fields.UUID()
    order_id = ma.fields.UUID()
    kind = ma.fields.Enum(RequestKind, by_value=True)
    status = ma.fields.String(attribute="status.value")
    reason = ma.fields.String()
    extra = ma.fields.String()
    review_at = ma.fields.AwareDateTime(allow_none=True)
    requested_by = ma.fields.Integer()
    requested_at = ma.fields.AwareDateTime()
    decided_by = ma.fields.Integer(allow_none=True)
    decided_at = ma.fields.AwareDateTime(allow_none=True)
    decision_note = ma.fields.String()


class EscalationSchema(ma.Schema):
    level = ma.fields.Integer()
    escalated_at = ma.fields.AwareDateTime()
    previous_due_at = ma.fields.AwareDateTime(allow_none=True)
    due_at = ma.fields.AwareDateTime(allow_none=True)
    escalated_by = ma.fields.Integer(allow_none=True)
    reason = ma.fields.String()


class HistorySchema(ma.Schema):
    occurred_at = ma.fields.AwareDateTime()
    action = ma.fields.String()
    actor_kind = ma.fields.String(attribute="actor_kind.value")
    actor_id = ma.fields.Integer(allow_none=True)
    device_id = ma.fields.UUID(allow_none=True)
    reason = ma.fields.String()
    data = ma.fields.Dict()


class OrderDetailSchema(OrderSchema):
    finding = ma.fields.Nested(FindingSchema, metadata={
        "description": "The finding: location, reporter, round, description"})
    before_photos = ma.fields.List(ma.fields.Nested(PhotoEvidenceSchema), metadata={
        "description": "整改前: the finding's photos"})
    after_photos = ma.fields.List(ma.fields.Nested(PhotoEvidenceSchema), metadata={
        "description": "整改后: the photos of every response, oldest first"})
    responses = ma.fields.List(ma.fields.Nested(ResponseSchema))
    requests = ma.fields.List(ma.fields.Nested(RequestSchema))
    escalations = ma.fields.List(ma.fields.Nested(EscalationSchema))
    history = ma.fields.List(ma.fields.Nested(HistorySchema))


class QueueArgs(ma.Schema):
    """The queue's filters and sort, shared by the list and its exports; loads to
    ``{"filters": QueueFilters, "sort": QueueSort}`` plus the paging arguments."""

    round_id = ma.fields.List(ma.fields.Integer(), load_default=list, metadata={"description": "Repeatable"})
    group_id = ma.fields.List(ma.fields.Integer(), load_default=list, metadata={
        "description": "考核组别 of the unit; repeatable"})
    unit_id = ma.fields.List(ma.fields.Integer(), load_default=list, metadata={"description": "Repeatable"})
    category = ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=64)), load_default=list,
                              metadata={"description": "The finding's category, exactly; repeatable"})
    level = ma.fields.List(ma.fields.Integer(validate=ma.validate.Range(min=1)), load_default=list)
    status = ma.fields.List(ma.fields.Enum(OrderStatus, by_value=True), load_default=list)
    overdue = ma.fields.Boolean(load_default=None, metadata={"description": "Issued and past its deadline now"})
    needs_supervisor = ma.fields.Boolean(load_default=None)
    flag = ma.fields.List(ma.fields.Enum(FlagKind, by_value=True), load_default=list, metadata={
        "description": "Has a photo flag of this kind (before- or after-photo); repeatable"})
    flagged = ma.fields.Boolean(load_default=None, metadata={"description": "Has any photo flag"})
    has_after_photo = ma.fields.Boolean(load_default=None, metadata={
        "description": "A response names an after-photo (整改后照片)"})
    inspector_id = ma.fields.Integer(load_default=None, metadata={"description": "Who reported the finding"})
    issued_from = ma.fields.Date(load_default=None, metadata={"description": "Issued on or after (local day)"})
    issued_to = ma.fields.Date(load_default=None, metadata={"description": "Issued on or before (local day)"})
    q = ma.fields.String(load_default="", validate=ma.validate.Length(max=200), metadata={
        "description": "Free text: every word must occur in the description, category, place or unit name"})
    sort = ma.fields.Enum(QueueSort, by_value=True, load_default=QueueSort.DEADLINE, metadata={
        "description": "deadline (nearest first), age (oldest first) or level (highest first)"})

    @ma.validates_schema
    def _range(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("issued_from") and data.get("issued_to") and data["issued_from"] > data["issued_to"]:
            raise ma.ValidationError("must not be before issued_from", "issued_to")

    @ma.post_load
    def _filters(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        filters = QueueFilters(
            round_ids=tuple(data.pop("round_id")), group_ids=tuple(data.pop("group_id")),
            unit_ids=tuple(data.pop("unit_id")), categories=tuple(data.pop("category")),
            levels=tuple(data.pop("level")), statuses=tuple(data.pop("status")), overdue=data.pop("overdue"),
            needs_supervisor=data.pop("needs_supervisor"), flags=tuple(data.pop("flag")),
            flagged=data.pop("flagged"), has_after_photo=data.pop("has_after_photo"),
            inspector_id=data.pop("inspector_id"), issued_from=data.pop("issued_from"),
            issued_to=data.pop("issued_to"), text=data.pop("q").strip())
        return {**data, "filters": filters}


class OrderQueryArgs(QueueArgs):
    limit = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=1))
    after = ma.fields.String(load_default=None, metadata={"description": "The next_after value of the previous page"})


class QueueRowSchema(OrderSchema):
    location_text = ma.fields.String()
    round_id = ma.fields.Integer(allow_none=True)
    reported_by = ma.fields.Integer()
    observed_at = ma.fields.AwareDateTime()
    before_photo = ma.fields.String(allow_none=True, metadata={"description": "The first before-photo's SHA-256"})
    flags = ma.fields.List(ma.fields.String(), metadata={"description": "Kinds of photo flags on the case"})
    pending_requests = ma.fields.List(ma.fields.String(), metadata={
        "description": "Kinds of the unit's requests awaiting a decision (待办)"})


class OrderPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(QueueRowSchema))
    next_after = ma.fields.String(allow_none=True)
    counts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), metadata={
        "description": "Orders per status under every other filter (zeros included)"})
    total = ma.fields.Integer(metadata={"description": "Orders matching every filter"})


class CommentSchema(ma.Schema):
    text = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=2000))


class BulkSchema(ma.Schema):
    order_ids = ma.fields.List(ma.fields.UUID(), required=True, validate=ma.validate.Length(min=1), metadata={
        "description": "At most XUNCHA_BULK_MAX_ITEMS"})
    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000), metadata={
        "description": "verify: the 复查 note"})
    reason = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000), metadata={
        "description": "reject: required; assign: optional"})
    unit_id = ma.fields.Integer(load_default=None, strict=True, metadata={"description": "assign: required"})

    @ma.validates("order_ids")
    def _bounded(self, value: list[Any], **_: Any) -> None:
        ceiling = current_app.config["BULK_MAX_ITEMS"]
        if len(value) > ceiling:
            raise ma.ValidationError(f"at most {ceiling} orders at once")


class BulkItemSchema(ma.Schema):
    id = ma.fields.UUID()
    ok = ma.fields.Boolean()
    status = ma.fields.String(allow_none=True, metadata={"description": "The order's status after (or, refused, now)"})
    version = ma.fields.Integer()
    code = ma.fields.String(metadata={"description": "Why refused: not_found, forbidden, illegal_transition, ..."})
    detail = ma.fields.String()


class BulkResultSchema(ma.Schema):
    results = ma.fields.List(ma.fields.Nested(BulkItemSchema))
    done = ma.fields.Integer()
    refused = ma.fields.Integer()


class ReasonSchema(ma.Schema):
    reason = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))


class RequiredReasonSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=2000))


class AssignSchema(ReasonSchema):
    unit_id = ma.fields.Integer(required=True, strict=True)


class RespondSchema(ma.Schema):
    response_id = ma.fields.UUID(load_default=None)
    measures = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=5000))
    photos = ma.fields.List(ma.fields.String(validate=ma.validate.Regexp(r"^[0-9a-f]{64}$")), load_default=list,
                            validate=ma.validate.Length(max=50))


class VerifySchema(ma.Schema):
    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))


class ExtendSchema(RequiredReasonSchema):
    extra = ma.fields.String(load_default=None, validate=_limit, metadata={"description": 'e.g. "3wd", "8wh"'})
    until = ma.fields.AwareDateTime(load_default=None)

    @ma.validates_schema
    def _one(self, data: dict[str, Any], **_: Any) -> None:
        if (data.get("extra") is None) == (data.get("until") is None):
            raise ma.ValidationError("give exactly one of extra and until", "extra")


class ParkSchema(RequiredReasonSchema):
    review_at = ma.fields.AwareDateTime(required=True)


class NewRequestSchema(RequiredReasonSchema):
    id = ma.fields.UUID(load_default=None)
    kind = ma.fields.Enum(RequestKind, by_value=True, required=True)
    extra = ma.fields.String(load_default=None, validate=_limit)
    review_at = ma.fields.AwareDateTime(load_default=None)


class DecisionSchema(ma.Schema):
    approve = ma.fields.Boolean(required=True)
    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))


class RequestQueryArgs(ma.Schema):
    status = ma.fields.Enum(RequestStatus, by_value=True, load_default=RequestStatus.PENDING)
    kind = ma.fields.List(ma.fields.Enum(RequestKind, by_value=True), load_default=list,
                          metadata={"description": "Repeatable"})
    unit_id = ma.fields.List(ma.fields.Integer(), load_default=list, metadata={"description": "Repeatable"})
    limit = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=1))
    after = ma.fields.String(load_default=None, metadata={"description": "The next_after value of the previous page"})


class RequestOrderSchema(ma.Schema):
    """The order a request is about, as much as deciding from the list needs."""

    id = ma.fields.UUID()
    status = ma.fields.String()
    level = ma.fields.Integer()
    due_at = ma.fields.AwareDateTime(allow_none=True)
    overdue = ma.fields.Boolean()
    unit_id = ma.fields.Integer(allow_none=True)
    unit_name = ma.fields.String(allow_none=True)
    category = ma.fields.String()
    description = ma.fields.String()
    location_text = ma.fields.String()


class RequestRowSchema(RequestSchema):
    order = ma.fields.Nested(RequestOrderSchema)


class RequestPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(RequestRowSchema))
    next_after = ma.fields.String(allow_none=True)
    total = ma.fields.Integer()


class PolicySchema(ma.Schema):
    version = ma.fields.Integer()
    name = ma.fields.String()
    levels = ma.fields.List(ma.fields.Dict())
    limits = ma.fields.List(ma.fields.Dict())
    reminders = ma.fields.List(ma.fields.Dict())
    leadership = ma.fields.List(ma.fields.String())
    rebound_days = ma.fields.Integer()
    rebound_distance_m = ma.fields.Float()
    max_bounces = ma.fields.Integer()


class IssuedFindingsSchema(ma.Schema):
    orders_started = ma.fields.Integer()
