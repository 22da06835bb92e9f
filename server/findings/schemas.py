"""What the finding API reads and gives."""

from __future__ import annotations

import marshmallow as ma

from server.findings.models import FindingStatus, Severity


class PhotoEvidenceSchema(ma.Schema):
    """A photo named by a finding (before) or a response (after), with what its EXIF told."""

    sha256 = ma.fields.String(metadata={"description": "GET /api/v1/photos/{sha256} (/thumb, /preview)"})
    role = ma.fields.String(metadata={"description": "before (整改前) or after (整改后)"})
    finding_id = ma.fields.UUID(allow_none=True)
    response_id = ma.fields.UUID(allow_none=True)
    named_at = ma.fields.AwareDateTime()
    present = ma.fields.Boolean(metadata={"description": "false while the phone has not uploaded it yet"})
    captured_at = ma.fields.AwareDateTime(allow_none=True, metadata={"description": "EXIF capture time"})
    latitude = ma.fields.Float(allow_none=True)
    longitude = ma.fields.Float(allow_none=True)
    camera = ma.fields.String()
    width = ma.fields.Integer(allow_none=True)
    height = ma.fields.Integer(allow_none=True)
    flags = ma.fields.List(ma.fields.Dict(), metadata={
        "description": "kind (reused_before_photo, reused_elsewhere, taken_before_order, far_from_finding) "
                       "and details, as GET /api/v1/photo-flags"})


class FindingSchema(ma.Schema):
    id = ma.fields.UUID()
    visit_id = ma.fields.UUID(allow_none=True)
    round_id = ma.fields.Integer(allow_none=True)
    round_name = ma.fields.String(allow_none=True)
    campaign_id = ma.fields.Integer()
    unit_id = ma.fields.Integer(allow_none=True)
    unit_name = ma.fields.String(allow_none=True)
    item_id = ma.fields.Integer(allow_none=True)
    category = ma.fields.String()
    description = ma.fields.String()
    severity = ma.fields.Enum(Severity, by_value=True)
    status = ma.fields.Enum(FindingStatus, by_value=True)
    latitude = ma.fields.Float(allow_none=True)
    longitude = ma.fields.Float(allow_none=True)
    location_text = ma.fields.String()
    reported_by = ma.fields.Integer()
    reporter_name = ma.fields.String(allow_none=True)
    observed_at = ma.fields.AwareDateTime()
    version = ma.fields.Integer()


class FindingOrderSchema(ma.Schema):
    id = ma.fields.UUID()
    status = ma.fields.String()


class FindingDetailSchema(FindingSchema):
    photos = ma.fields.List(ma.fields.Nested(PhotoEvidenceSchema))
    orders = ma.fields.List(ma.fields.Nested(FindingOrderSchema))


class FindingQueryArgs(ma.Schema):
    round_id = ma.fields.Integer(load_default=None)
    unit_id = ma.fields.Integer(load_default=None)
    visit_id = ma.fields.UUID(load_default=None)
    inspector_id = ma.fields.Integer(load_default=None, metadata={"description": "The reporting inspector"})
    category = ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=64)), load_default=list)
    status = ma.fields.Enum(FindingStatus, by_value=True, load_default=None)
    limit = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=1))
    after = ma.fields.String(load_default=None, metadata={"description": "The next_after value of the previous page"})


class FindingPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(FindingSchema))
    next_after = ma.fields.String(allow_none=True)
