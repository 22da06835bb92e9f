"""What the visit API reads and gives."""

from __future__ import annotations

import marshmallow as ma

from server.visits.models import AnswerResult, VisitStatus


class VisitSchema(ma.Schema):
    id = ma.fields.UUID()
    round_id = ma.fields.Integer()
    round_name = ma.fields.String()
    unit_id = ma.fields.Integer()
    unit_name = ma.fields.String()
    team_id = ma.fields.Integer(allow_none=True)
    inspector_id = ma.fields.Integer()
    inspector_name = ma.fields.String()
    status = ma.fields.Enum(VisitStatus, by_value=True)
    started_at = ma.fields.AwareDateTime()
    ended_at = ma.fields.AwareDateTime(allow_none=True)
    methods = ma.fields.String()
    notes = ma.fields.String()
    version = ma.fields.Integer()


class AnswerSchema(ma.Schema):
    id = ma.fields.UUID()
    item_id = ma.fields.Integer()
    result = ma.fields.Enum(AnswerResult, by_value=True)
    score = ma.fields.Decimal(as_string=True, allow_none=True)
    instances = ma.fields.Integer()
    note = ma.fields.String()
    answered_by = ma.fields.Integer()
    answered_at = ma.fields.AwareDateTime()


class VisitFindingSchema(ma.Schema):
    id = ma.fields.UUID()
    category = ma.fields.String()
    description = ma.fields.String()


class VisitDetailSchema(VisitSchema):
    answers = ma.fields.List(ma.fields.Nested(AnswerSchema))
    findings = ma.fields.List(ma.fields.Nested(VisitFindingSchema))


class VisitQueryArgs(ma.Schema):
    round_id = ma.fields.Integer(load_default=None)
    unit_id = ma.fields.Integer(load_default=None)
    inspector_id = ma.fields.Integer(load_default=None)
    status = ma.fields.Enum(VisitStatus, by_value=True, load_default=None)
    limit = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=1))
    after = ma.fields.String(load_default=None, metadata={"description": "The next_after value of the previous page"})


class VisitPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(VisitSchema))
    next_after = ma.fields.String(allow_none=True)
