from __future__ import annotations

import marshmallow as ma

from server.units.models import ContactRole, ZoneKind


class ContactSchema(ma.Schema):
    role = ma.fields.Enum(ContactRole, by_value=True)
    name = ma.fields.String()
    phone = ma.fields.String()
    email = ma.fields.String()


class UnitSchema(ma.Schema):
    id = ma.fields.Integer()
    campaign_id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    group_id = ma.fields.Integer(allow_none=True)
    parent_id = ma.fields.Integer(allow_none=True)
    address = ma.fields.String()
    active = ma.fields.Boolean()
    contacts = ma.fields.List(ma.fields.Nested(ContactSchema))


class ZoneSchema(ma.Schema):
    id = ma.fields.Integer()
    unit_id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    kind = ma.fields.Enum(ZoneKind, by_value=True)
    geometry = ma.fields.Dict(metadata={"description": "GeoJSON Polygon or MultiPolygon (WGS-84)"})
