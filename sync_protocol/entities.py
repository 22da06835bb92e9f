"""What a device may push, entity by entity: the operations and the fields each takes.

Free-text and scalar fields of visits and findings merge last-writer-wins per field; answers
and photos are append-only and merge by union; order steps are commands checked against the
order's current state, never a status overwrite.
"""

from __future__ import annotations

from dataclasses import dataclass

import marshmallow as ma

from sync_protocol.fields import AwareDateTime, Integer, String
from sync_protocol.messages import Op

SHA256 = ma.validate.Regexp(r"^[0-9a-f]{64}$", error="must be a lowercase hex SHA-256")


class VisitFields(ma.Schema):
    round_id = Integer(required=True, strict=True)
    unit_id = Integer(required=True, strict=True)
    team_id = Integer(load_default=None, strict=True, allow_none=True)
    started_at = AwareDateTime(required=True)
    ended_at = AwareDateTime(load_default=None, allow_none=True)
    methods = String(load_default="", validate=ma.validate.Length(max=200))
    notes = String(load_default="", validate=ma.validate.Length(max=5000))
    status = String(load_default="open", validate=ma.validate.OneOf(["open", "submitted"]))


class AnswerFields(ma.Schema):
    visit_id = ma.fields.UUID(required=True)
    item_id = Integer(required=True, strict=True)
    result = String(required=True, validate=ma.validate.OneOf(["pass", "fail", "na"]))
    instances = Integer(load_default=0, strict=True, validate=ma.validate.Range(min=0, max=1000))
    score = ma.fields.Decimal(load_default=None, allow_none=True, places=2, as_string=True)
    note = String(load_default="", validate=ma.validate.Length(max=2000))


class FindingFields(ma.Schema):
    visit_id = ma.fields.UUID(load_default=None, allow_none=True)
    round_id = Integer(load_default=None, strict=True, allow_none=True)
    #: The unit visited; empty for a patrol finding, which is routed by its location.
    unit_id = Integer(load_default=None, strict=True, allow_none=True)
    item_id = Integer(load_default=None, strict=True, allow_none=True)
    category = String(required=True, validate=ma.validate.Length(min=1, max=64))
    description = String(required=True, validate=ma.validate.Length(min=1, max=5000))
    severity = String(load_default="normal",
                                validate=ma.validate.OneOf(["minor", "normal", "serious", "urgent"]))
    latitude = ma.fields.Float(load_default=None, allow_none=True, validate=ma.validate.Range(-90, 90))
    longitude = ma.fields.Float(load_default=None, allow_none=True, validate=ma.validate.Range(-180, 180))
    location_text = String(load_default="", validate=ma.validate.Length(max=300))
    #: Before-photos by SHA-256; they may arrive later over the resumable upload.
    photos = ma.fields.List(String(validate=SHA256), load_default=list,
                            validate=ma.validate.Length(max=50))


#: Fields an update may change, per entity; the rest are fixed at creation.
MUTABLE = {
    "visit": frozenset({"ended_at", "methods", "notes", "status"}),
    "finding": frozenset({"category", "description", "severity", "latitude", "longitude", "location_text"}),
}


class PhotoFields(ma.Schema):
    sha256 = String(required=True, validate=SHA256)
    finding_id = ma.fields.UUID(load_default=None, allow_none=True)
    response_id = ma.fields.UUID(load_default=None, allow_none=True)
    role = String(load_default="before", validate=ma.validate.OneOf(["before", "after"]))

    @ma.validates_schema
    def _one_owner(self, data: dict, **_: object) -> None:  # type: ignore[type-arg]
        if (data.get("finding_id") is None) == (data.get("response_id") is None):
            raise ma.ValidationError("name exactly one of finding_id and response_id", "finding_id")


class RespondFields(ma.Schema):
    #: The response's own id, made on the device, so a re-sent respond is recognised.
    response_id = ma.fields.UUID(required=True)
    measures = String(required=True, validate=ma.validate.Length(min=1, max=5000))
    photos = ma.fields.List(String(validate=SHA256), load_default=list,
                            validate=ma.validate.Length(max=50))


class VerifyFields(ma.Schema):
    note = String(load_default="", validate=ma.validate.Length(max=2000))


class RejectFields(ma.Schema):
    reason = String(required=True, validate=ma.validate.Length(min=1, max=2000))


LIMIT = ma.validate.Regexp(r"^[1-9][0-9]{0,3}(wh|wd|h|d)$",
                           error='must be a time limit such as "3wd" (working days), "8wh", "48h" or "3d"')


class RequestFields(ma.Schema):
    """A unit's request about an order (延期 / 回退 / 挂账 / 作废), for a supervisor to decide."""

    #: The request's own id, made on the device, so a re-sent request is recognised.
    request_id = ma.fields.UUID(required=True)
    kind = String(required=True, validate=ma.validate.OneOf(["extension", "return", "park", "void"]))
    reason = String(required=True, validate=ma.validate.Length(min=1, max=2000))
    #: For an extension: the extra time asked for.
    extra = String(load_default=None, allow_none=True, validate=LIMIT)
    #: For parking (挂账): when to look at it again.
    review_at = AwareDateTime(load_default=None, allow_none=True)


@dataclass(frozen=True)
class EntitySpec:
    ops: frozenset[Op]
    create: type[ma.Schema] | None = None
    commands: dict[str, type[ma.Schema]] | None = None


ENTITIES: dict[str, EntitySpec] = {
    "visit": EntitySpec(frozenset({Op.CREATE, Op.UPDATE}), VisitFields),
    "answer": EntitySpec(frozenset({Op.CREATE}), AnswerFields),
    "finding": EntitySpec(frozenset({Op.CREATE, Op.UPDATE, Op.DELETE}), FindingFields),
    "photo": EntitySpec(frozenset({Op.CREATE}), PhotoFields),
    "order": EntitySpec(frozenset({Op.COMMAND}),
                        commands={"respond": RespondFields, "verify": VerifyFields, "reject": RejectFields,
                                  "request": RequestFields}),
}

_SCHEMAS: dict[type[ma.Schema], ma.Schema] = {}


def schema(cls: type[ma.Schema], *, partial: bool = False) -> ma.Schema:
    """One instance per schema: building marshmallow schemas per mutation would cost more than validating."""
    key = (cls, partial)
    if key not in _SCHEMAS:
        _SCHEMAS[key] = cls(partial=partial) if partial else cls()  # type: ignore[index]
    return _SCHEMAS[key]  # type: ignore[index]
