from __future__ import annotations

import marshmallow as ma

from server.auth.models import Role
from sync_protocol.fields import AwareDateTime, Integer, String


class DeviceSchema(ma.Schema):
    id = ma.fields.UUID(load_default=None, metadata={
        "description": "The id the app made for itself at install time (UUID); omitted by browsers."})
    name = String(load_default="", validate=ma.validate.Length(max=100))
    platform = String(load_default="", validate=ma.validate.Length(max=40))
    app_version = String(load_default="", validate=ma.validate.Length(max=40))


class LoginSchema(ma.Schema):
    username = String(required=True, validate=ma.validate.Length(min=1, max=64))
    password = String(required=True, validate=ma.validate.Length(min=1, max=1024),
                                load_only=True)
    device = ma.fields.Nested(DeviceSchema, load_default=dict)


class UserSchema(ma.Schema):
    id = Integer()
    username = String()
    display_name = String()
    role = ma.fields.Enum(Role, by_value=True)
    campaign_id = Integer(allow_none=True)
    unit_id = Integer(allow_none=True)
    phone = String()
    email = String()
    active = ma.fields.Boolean()


class TokenSchema(ma.Schema):
    token = String(metadata={"description": "Send as 'Authorization: Bearer <token>'"})
    token_id = Integer()
    expires_at = AwareDateTime()
    device_id = ma.fields.UUID()
    user = ma.fields.Nested(UserSchema)


class MeSchema(ma.Schema):
    user = ma.fields.Nested(UserSchema)
    device_id = ma.fields.UUID()
    token_id = Integer()
    expires_at = AwareDateTime()


class RevokeSchema(ma.Schema):
    reason = String(load_default="", validate=ma.validate.Length(max=500))


class RevokedSchema(ma.Schema):
    revoked = Integer(metadata={"description": "Tokens revoked by this request"})
