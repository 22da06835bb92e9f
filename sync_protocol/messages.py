"""The wire format of push and pull, as marshmallow schemas.

The envelope is validated here, once per request; a mutation's ``fields`` are validated
per entity (:mod:`sync_protocol.entities`) when it is applied, so one bad mutation is
rejected on its own instead of failing the whole batch.
"""

from __future__ import annotations

import enum

import marshmallow as ma


class Op(str, enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    COMMAND = "command"


class Outcome(str, enum.Enum):
    #: Applied as sent.
    APPLIED = "applied"
    #: Applied in part: a concurrent newer edit kept some fields; ``server`` holds the result.
    MERGED = "merged"
    #: Already there: the same record with the same content exists (e.g. a re-install re-sent it).
    DUPLICATE = "duplicate"
    #: Can never apply (``problem`` says why); kept in quarantine for a supervisor to see and replay.
    REJECTED = "rejected"
    #: Refused by the record's current state (e.g. rejecting a closed order); ``server`` holds it.
    CONFLICT = "conflict"


class TelemetrySchema(ma.Schema):
    outbox_depth = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=0))
    oldest_unsynced_age_s = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=0))
    app_version = ma.fields.String(load_default="", validate=ma.validate.Length(max=40))
    schema_version = ma.fields.Integer(load_default=None)


class MutationSchema(ma.Schema):
    #: The device's own sequence number: strictly increasing over the device's whole life.
    seq = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=1))
    entity = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=32))
    id = ma.fields.UUID(required=True)
    op = ma.fields.Enum(Op, by_value=True, required=True)
    #: For op=command: respond, verify, reject ...
    command = ma.fields.String(load_default=None, validate=ma.validate.Length(max=32))
    #: Checked key by key by the entity's schema when the mutation is applied (unknown names
    #: are refused there), so the envelope only asks for an object.
    fields = ma.fields.Dict(load_default=dict)
    #: The record version (from pull) this edit was made on; 0 for a record the device has not pulled.
    base_version = ma.fields.Integer(load_default=0, strict=True, validate=ma.validate.Range(min=0))
    #: The device clock when the change was made; corrected by the device's measured offset.
    device_time = ma.fields.AwareDateTime(required=True)


class PushRequestSchema(ma.Schema):
    protocol = ma.fields.Integer(required=True, strict=True)
    device_id = ma.fields.UUID(required=True)
    #: The device clock when this request was sent: the server measures the device's offset from it.
    sent_at = ma.fields.AwareDateTime(required=True)
    telemetry = ma.fields.Nested(TelemetrySchema, load_default=dict)
    mutations = ma.fields.List(ma.fields.Nested(MutationSchema), required=True)


class MutationResultSchema(ma.Schema):
    seq = ma.fields.Integer()
    entity = ma.fields.String()
    id = ma.fields.String()
    op = ma.fields.String()
    outcome = ma.fields.String(metadata={"enum": [o.value for o in Outcome]})
    #: For rejected and conflict: an RFC 9457 problem object.
    problem = ma.fields.Dict(allow_none=True)
    #: For merged, duplicate and conflict: the record as the server now holds it.
    server = ma.fields.Dict(allow_none=True)
    #: Instead of ``server``: the record has been deleted since (e.g. a create re-sent after
    #: another device deleted it); the device removes its copy.
    deleted = ma.fields.Boolean()
    #: The record was outside the user's scope when it arrived; applied all the same.
    late = ma.fields.Boolean()


class PushResponseSchema(ma.Schema):
    protocol = ma.fields.Integer()
    results = ma.fields.List(ma.fields.Nested(MutationResultSchema))
    #: The highest sequence the server has taken from this device: drop everything up to it.
    acknowledged_seq = ma.fields.Integer()
    server_time = ma.fields.AwareDateTime()


class PullArgsSchema(ma.Schema):
    protocol = ma.fields.Integer(load_default=1)
    cursor = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))
    limit = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=1))


class ChangeSchema(ma.Schema):
    entity = ma.fields.String()
    id = ma.fields.String()
    #: "upsert" or "delete" (a tombstone).
    op = ma.fields.String()
    seq = ma.fields.Integer()
    data = ma.fields.Dict(allow_none=True)
    #: For tombstones: "deleted" or "out_of_scope".
    reason = ma.fields.String(allow_none=True)


class PullResponseSchema(ma.Schema):
    protocol = ma.fields.Integer()
    changes = ma.fields.List(ma.fields.Nested(ChangeSchema))
    cursor = ma.fields.String(metadata={"description": "Pass back unchanged as ?cursor= on the next pull"})
    has_more = ma.fields.Boolean()
    #: SHA-256 of photos this device named that the server does not have yet: upload them.
    missing_photos = ma.fields.List(ma.fields.String())
    server_time = ma.fields.AwareDateTime()
