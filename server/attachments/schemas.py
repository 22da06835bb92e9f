"""What the photo endpoints take and give."""

from __future__ import annotations

import marshmallow as ma

from server.attachments.models import FlagKind
from server.pagination import PageArgsSchema
from sync_protocol.fields import AwareDateTime, Integer, String


class PhotoFlagArgsSchema(PageArgsSchema):
    finding_id = ma.fields.UUID(load_default=None, metadata={"description": "Flags of this finding's photos"})
    order_id = ma.fields.UUID(load_default=None, metadata={
        "description": "Flags of the order's after-photos and of its finding's before-photos"})
    unit_id = Integer(load_default=None, metadata={"description": "Flags of this unit's findings"})


class PhotoFlagSchema(ma.Schema):
    id = Integer()
    sha256 = String(metadata={"description": "The flagged photo: GET /api/v1/photos/{sha256}"})
    finding_id = ma.fields.UUID()
    order_id = ma.fields.UUID(allow_none=True)
    kind = ma.fields.Enum(FlagKind, by_value=True)
    details = ma.fields.Dict(metadata={
        "description": "reused_*: matches (sha256, distance in bits, finding_id, unit_id) and max_bits; "
                       "taken_before_order: captured_at, order_issued_at; far_from_finding: metres, "
                       "max_metres, photo and finding [latitude, longitude]"})
    created_at = AwareDateTime()
