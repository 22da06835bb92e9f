from __future__ import annotations

import marshmallow as ma

from sync_protocol.fields import AwareDateTime, BigInteger, Integer, String


class QuarantinedSchema(ma.Schema):
    id = ma.fields.UUID()
    device_id = ma.fields.UUID()
    user_id = Integer()
    seq = BigInteger()
    mutation = ma.fields.Dict()
    problem = ma.fields.Dict()
    received_at = AwareDateTime()
    status = String()
    resolved_at = AwareDateTime(allow_none=True)
    resolved_by = Integer(allow_none=True)
    resolution = String()


class ConflictSchema(ma.Schema):
    id = ma.fields.UUID()
    entity = String()
    entity_id = String()
    device_id = ma.fields.UUID()
    seq = BigInteger()
    kind = String()
    needs_person = ma.fields.Boolean()
    detail = ma.fields.Dict()
    created_at = AwareDateTime()


class DeviceStateSchema(ma.Schema):
    device_id = ma.fields.UUID()
    user_id = Integer()
    username = String()
    display_name = String()
    name = String(metadata={"description": "as the app named the device at login"})
    platform = String()
    app_version = String()
    last_seen_at = AwareDateTime(allow_none=True)
    revoked_at = AwareDateTime(allow_none=True)
    released_at = AwareDateTime(allow_none=True)
    last_seq = BigInteger()
    last_push_at = AwareDateTime(allow_none=True)
    last_pull_at = AwareDateTime(allow_none=True)
    clock_offset_ms = BigInteger(allow_none=True)
    telemetry = ma.fields.Dict()


class ReviewArgsSchema(ma.Schema):
    status = String(load_default="open", validate=ma.validate.OneOf(["open", "replayed", "dismissed"]))
    limit = Integer(load_default=100, validate=ma.validate.Range(min=1, max=1000))


class ReplayResultSchema(ma.Schema):
    outcome = String()
    problem = ma.fields.Dict(allow_none=True)


class DismissSchema(ma.Schema):
    reason = String(required=True, validate=ma.validate.Length(min=1, max=2000))
