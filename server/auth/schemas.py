from __future__ import annotations

import marshmallow as ma

from server.auth.models import Role


class DeviceSchema(ma.Schema):
    id = ma.fields.UUID(load_default=None, metadata={
        "description": "The id the app made for itself at install time (UUID); omitted by browsers."})
    name = ma.fields.String(load_default="", validate=ma.validate.Length(max=100))
    platform = ma.fields.String(load_default="", validate=ma.validate.Length(max=40))
    app_version = ma.fields.String(load_default="", validate=ma.validate.Length(max=40))


class LoginSchema(ma.Schema):
    username = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    password = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=1024),
                                load_only=True)
    device = ma.fields.Nested(DeviceSchema, load_default=dict)


class UserSchema(ma.Schema):
    id = ma.fields.Integer()
    username = ma.fields.String()
    display_name = ma.fields.String()
    role = ma.fields.Enum(Role, by_value=True)
    campaign_id = ma.fields.Integer(allow_none=True)
    unit_id = ma.fields.Integer(allow_none=True)
    phone = ma.fields.String()
    email = ma.fields.String()
    active = ma.fields.Boolean()


class TokenSchema(ma.Schema):
    token = ma.fields.String(metadata={"description": "Send as 'Authorization: Bearer <token>'"})
    token_id = ma.fields.Integer()
    expires_at = ma.fields.AwareDateTime()
    device_id = ma.fields.UUID()
    user = ma.fields.Nested(UserSchema)


class MeSchema(ma.Schema):
    user = ma.fields.Nested(UserSchema)
    device_id = ma.fields.UUID()
    token_id = ma.fields.Integer()
    expires_at = ma.fields.AwareDateTime()


class RevokeSchema(ma.Schema):
    reason = ma.fields.String(load_default="", validate=ma.validate.Length(max=500))


class RevokedSchema(ma.Schema):
    revoked = ma.fields.Integer(metadata={"description": "Tokens revoked by this request"})


class ReleaseSchema(ma.Schema):
    last_seq = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=0, max=2**63 - 1),
                                 metadata={"description": "The highest sequence this device gave a mutation; "
                                                          "the server must have acknowledged it"})


class ReleasedSchema(ma.Schema):
    device_id = ma.fields.UUID()
    released_at = ma.fields.AwareDateTime()


_NEW_PASSWORD = {"description": "Refused when common or easy to guess (zxcvbn score below 3, or shorter than "
                                "8 characters); the error says why."}


class ChangePasswordSchema(ma.Schema):
    old_password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=1024))
    new_password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=1024),
                                    metadata=_NEW_PASSWORD)


class ResetPasswordSchema(ma.Schema):
    password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=1024),
                                metadata=_NEW_PASSWORD)
    reason = ma.fields.String(load_default="", validate=ma.validate.Length(max=500))


class AccountChangedSchema(ma.Schema):
    user = ma.fields.Nested(UserSchema)
    revoked = ma.fields.Integer(metadata={"description": "Tokens of the account revoked by this request"})
