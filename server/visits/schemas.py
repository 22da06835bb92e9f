"""What the visit API reads and gives."""

from __future__ import annotations

import marshmallow as ma

from server.visits.models import AnswerResult, VisitStatus
from server.pagination import page_limit
from sync_protocol.fields import AwareDateTime, Integer, String


class VisitSchema(ma.Schema):
    id = ma.fields.UUID()
    round_id = Integer()
    round_name = String()
    unit_id = Integer()
    unit_name = String()
    team_id = Integer(allow_none=True)
    inspector_id = Integer()
    inspector_name = String()
    status = ma.fields.Enum(VisitStatus, by_value=True)
    started_at = AwareDateTime()
    ended_at = AwareDateTime(allow_none=True)
    methods = String()
    notes = String()
    version = Integer()


class AnswerSchema(ma.Schema):
    id = ma.fields.UUID()
    item_id = Integer()
    result = ma.fields.Enum(AnswerResult, by_value=True)
    score = ma.fields.Decimal(as_string=True, allow_none=True)
    instances = Integer()
    note = String()
    answered_by = Integer()
    answered_at = AwareDateTime()


class VisitFindingSchema(ma.Schema):
    id = ma.fields.UUID()
    category = String()
    description = String()


class VisitDetailSchema(VisitSchema):
    answers = ma.fields.List(ma.fields.Nested(AnswerSchema))
    findings = ma.fields.List(ma.fields.Nested(VisitFindingSchema))


class VisitQueryArgs(ma.Schema):
    round_id = Integer(load_default=None)
    unit_id = Integer(load_default=None)
    inspector_id = Integer(load_default=None)
    status = ma.fields.Enum(VisitStatus, by_value=True, load_default=None)
    limit = page_limit()
    after = String(load_default=None, metadata={"description": "The next_after value of the previous page"})


class VisitPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(VisitSchema))
    next_after = String(allow_none=True)
