"""The wire format of push and pull, as marshmallow schemas.

The envelope is validated here, once per request; a mutation's ``fields`` are validated
per entity (:mod:`sync_protocol.entities`) when it is applied, so one bad mutation is
rejected on its own instead of failing the whole batch.
"""

from __future__ import annotations

import enum

import marshmallow as ma

from sync_protocol.fields import AwareDateTime, BigInteger, Integer, String


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
    outbox_depth = Integer(load_default=None, validate=ma.validate.Range(min=0))
    oldest_unsynced_age_s = Integer(load_default=None, validate=ma.validate.Range(min=0))
    app_version = String(load_default="", validate=ma.validate.Length(max=40))
    schema_version = Integer(load_default=None)


class MutationSchema(ma.Schema):
    #: The device's own sequence number: strictly increasing over the device's whole life.
    seq = BigInteger(required=True, strict=True, validate=ma.validate.Range(min=1))
    entity = String(required=True, validate=ma.validate.Length(min=1, max=32))
    id = ma.fields.UUID(required=True)
    op = ma.fields.Enum(Op, by_value=True, required=True)
    #: For op=command: respond, verify, reject ...
    command = String(load_default=None, validate=ma.validate.Length(max=32))
    #: Checked key by key by the entity's schema when the mutation is applied (unknown names
    #: are refused there), so the envelope only asks for an object.
    fields = ma.fields.Dict(load_default=dict)
    #: The record version (from pull) this edit was made on; 0 for a record the device has not pulled.
    base_version = Integer(load_default=0, strict=True, validate=ma.validate.Range(min=0))
    #: The device clock when the change was made; corrected by the device's measured offset.
    device_time = AwareDateTime(required=True)


class PushRequestSchema(ma.Schema):
    protocol = Integer(required=True, strict=True)
    device_id = ma.fields.UUID(required=True)
    #: The device clock when this request was sent: the server measures the device's offset from it.
    sent_at = AwareDateTime(required=True)
    telemetry = ma.fields.Nested(TelemetrySchema, load_default=dict)
    mutations = ma.fields.List(ma.fields.Nested(MutationSchema), required=True)


class MutationResultSchema(ma.Schema):
    seq = BigInteger()
    entity = String()
    id = String()
    op = String()
    outcome = String(metadata={"enum": [o.value for o in Outcome]})
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
    protocol = Integer()
    results = ma.fields.List(ma.fields.Nested(MutationResultSchema))
    #: The highest sequence the server has taken from this device: drop everything up to it.
    acknowledged_seq = BigInteger()
    server_time = AwareDateTime()


class PullArgsSchema(ma.Schema):
    protocol = Integer(load_default=1)
    cursor = String(load_default="", validate=ma.validate.Length(max=2000))
    limit = Integer(load_default=None, validate=ma.validate.Range(min=1))


class ChangeSchema(ma.Schema):
    entity = String()
    id = String()
    #: "upsert" or "delete" (a tombstone).
    op = String()
    seq = BigInteger()
    data = ma.fields.Dict(allow_none=True)
    #: For tombstones: "deleted" or "out_of_scope".
    reason = String(allow_none=True)


class PullResponseSchema(ma.Schema):
    protocol = Integer()
    changes = ma.fields.List(ma.fields.Nested(ChangeSchema))
    cursor = String(metadata={"description": "Pass back unchanged as ?cursor= on the next pull"})
    has_more = ma.fields.Boolean()
    #: SHA-256 of photos this device named that the server does not have yet: upload them.
    missing_photos = ma.fields.List(String())
    server_time = AwareDateTime()
