from __future__ import annotations

import marshmallow as ma

from server.auth.models import Role
from sync_protocol.fields import AwareDateTime, BigInteger, Integer, String


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


NEW_PASSWORD = {"description": "Refused when common or easy to guess (zxcvbn score below 3, or shorter than "
                               "8 characters); the error says why."}


class ChangePasswordSchema(ma.Schema):
    old_password = String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=1024))
    new_password = String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=1024),
                                    metadata=NEW_PASSWORD)


class ResetPasswordSchema(ma.Schema):
    password = String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=1024),
                                metadata=NEW_PASSWORD)
    reason = String(load_default="", validate=ma.validate.Length(max=500))


class AccountChangedSchema(ma.Schema):
    user = ma.fields.Nested(UserSchema)
    revoked = Integer(metadata={"description": "Tokens of the account revoked by this request"})


class ReleaseSchema(ma.Schema):
    last_seq = BigInteger(required=True, strict=True, validate=ma.validate.Range(min=0, max=2**63 - 1),
                                 metadata={"description": "The highest sequence this device gave a mutation; "
                                                          "the server must have acknowledged it"})


class ReleasedSchema(ma.Schema):
    device_id = ma.fields.UUID()
    released_at = AwareDateTime()


class EnrolSchema(ma.Schema):
    code = String(required=True, validate=ma.validate.Length(min=1, max=100), load_only=True,
                            metadata={"description": "The one-time code from the QR code"})
    device = ma.fields.Nested(DeviceSchema, load_default=dict)


class EnrolmentCodeSchema(ma.Schema):
    user_id = Integer()
    code = String(metadata={"description": "One-time; shown once, stored only as its hash"})
    expires_at = AwareDateTime()
    uri = String(metadata={"description": "xuncha://enrol?server=…&code=…, what the QR code holds"})
    qr_png = String(metadata={"description": "The QR code as a base64 PNG"})
