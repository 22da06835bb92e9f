from __future__ import annotations

import marshmallow as ma


class QuarantinedSchema(ma.Schema):
    id = ma.fields.UUID()
    device_id = ma.fields.UUID()
    user_id = ma.fields.Integer()
    seq = ma.fields.Integer()
    mutation = ma.fields.Dict()
    problem = ma.fields.Dict()
    received_at = ma.fields.AwareDateTime()
    status = ma.fields.String()
    resolved_at = ma.fields.AwareDateTime(allow_none=True)
    resolved_by = ma.fields.Integer(allow_none=True)
    resolution = ma.fields.String()


class ConflictSchema(ma.Schema):
    id = ma.fields.UUID()
    entity = ma.fields.String()
    entity_id = ma.fields.String()
    device_id = ma.fields.UUID()
    seq = ma.fields.Integer()
    kind = ma.fields.String()
    needs_person = ma.fields.Boolean()
    detail = ma.fields.Dict()
    created_at = ma.fields.AwareDateTime()


class DeviceStateSchema(ma.Schema):
    device_id = ma.fields.UUID()
    user_id = ma.fields.Integer()
    username = ma.fields.String()
    display_name = ma.fields.String()
    name = ma.fields.String(metadata={"description": "as the app named the device at login"})
    platform = ma.fields.String()
    app_version = ma.fields.String()
    last_seen_at = ma.fields.AwareDateTime(allow_none=True)
    revoked_at = ma.fields.AwareDateTime(allow_none=True)
    released_at = ma.fields.AwareDateTime(allow_none=True)
    last_seq = ma.fields.Integer()
    last_push_at = ma.fields.AwareDateTime(allow_none=True)
    last_pull_at = ma.fields.AwareDateTime(allow_none=True)
    clock_offset_ms = ma.fields.Integer(allow_none=True)
    telemetry = ma.fields.Dict()


class ReviewArgsSchema(ma.Schema):
    status = ma.fields.String(load_default="open", validate=ma.validate.OneOf(["open", "replayed", "dismissed"]))
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=1000))


class ReplayResultSchema(ma.Schema):
    outcome = ma.fields.String()
    problem = ma.fields.Dict(allow_none=True)


class DismissSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=2000))
