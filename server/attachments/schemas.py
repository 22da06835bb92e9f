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


class PhotoPlaceSchema(ma.Schema):
    latitude = ma.fields.Float()
    longitude = ma.fields.Float()
    altitude = ma.fields.Float(allow_none=True, metadata={"description": "Metres above sea level"})


class PhotoCameraSchema(ma.Schema):
    make = String(allow_none=True)
    model = String(allow_none=True)


class PhotoMetadataSchema(ma.Schema):
    """What the photo's EXIF says and what the server measured, read from ``PhotoMetadata``."""

    sha256 = String(attribute="photo.sha256")
    size_bytes = Integer(attribute="photo.size_bytes")
    content_type = String(attribute="photo.content_type")
    format = String(metadata={"description": "JPEG, PNG, WEBP or HEIF"})
    width = Integer(attribute="photo.width", metadata={"description": "Pixels, upright"})
    height = Integer(attribute="photo.height", metadata={"description": "Pixels, upright"})
    captured_at = AwareDateTime(attribute="photo.captured_at", allow_none=True, metadata={
        "description": "EXIF capture time; in the campaign's zone when the phone wrote no offset"})
    gps = ma.fields.Method("_gps", metadata={"description": "EXIF position, null when the photo has none"})
    camera = ma.fields.Method("_camera")
    received_at = AwareDateTime(attribute="photo.received_at")
    flags = ma.fields.List(ma.fields.Nested(PhotoFlagSchema), allow_none=True, metadata={
        "description": "Flags on the photo's namings in the caller's scope; null for callers who may not read flags"})

    def _gps(self, obj) -> dict | None:  # type: ignore[no-untyped-def]
        photo = obj.photo
        if photo.latitude is None or photo.longitude is None:
            return None
        return PhotoPlaceSchema().dump(photo)

    def _camera(self, obj) -> dict:  # type: ignore[no-untyped-def]
        return {"make": obj.photo.camera_make, "model": obj.photo.camera_model}
