from __future__ import annotations

import marshmallow as ma

from server.units.models import ContactRole, ZoneKind
from sync_protocol.fields import Integer, String


class ContactSchema(ma.Schema):
    role = ma.fields.Enum(ContactRole, by_value=True)
    name = String()
    phone = String()
    email = String()


class UnitSchema(ma.Schema):
    id = Integer()
    campaign_id = Integer()
    code = String()
    name = String()
    group_id = Integer(allow_none=True)
    parent_id = Integer(allow_none=True)
    address = String()
    active = ma.fields.Boolean()
    contacts = ma.fields.List(ma.fields.Nested(ContactSchema))


class ZoneSchema(ma.Schema):
    id = Integer()
    unit_id = Integer()
    code = String()
    name = String()
    kind = ma.fields.Enum(ZoneKind, by_value=True)
    geometry = ma.fields.Dict(metadata={"description": "GeoJSON Polygon or MultiPolygon (WGS-84)"})
