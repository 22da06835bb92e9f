"""The shapes of creating and importing accounts; an account itself is :class:`server.auth.schemas.UserSchema`."""

from __future__ import annotations

from typing import Any, Callable

import marshmallow as ma

from server.auth.models import Role
from server.auth.schemas import NEW_PASSWORD
from server.imports import base as cells
from server.imports.schemas import ImportFormSchema, ImportReportSchema
from sync_protocol.fields import Integer, String


def _as_in_a_file(parse: Callable[[str], Any]) -> Callable[[str], None]:
    """A users file's cell check (:mod:`server.imports.users`) as a field's: one rule for both."""
    def validate(value: str) -> None:
        if value:
            try:
                parse(value)
            except cells.Invalid as exc:
                raise ma.ValidationError(str(exc)) from None

    return validate


class UserCreateSchema(ma.Schema):
    username = String(required=True, validate=[ma.validate.Length(min=1, max=64),
                                               ma.validate.Regexp(r"^\S+$", error="no spaces")])
    display_name = String(required=True, validate=ma.validate.Length(min=1, max=100))
    role = ma.fields.Enum(Role, by_value=True, required=True, metadata={
        "description": "A supervisor creates inspectors and liaisons of their campaign; staff accounts are an admin's"})
    campaign_id = Integer(load_default=None, metadata={
        "description": "Default: the caller's campaign (an admin with one campaign: that one). An admin's account "
                       "belongs to no campaign."})
    unit_id = Integer(load_default=None, metadata={"description": "A liaison's unit, in the campaign; nobody else has one"})
    phone = String(load_default="", validate=[ma.validate.Length(max=40), _as_in_a_file(cells.phone)])
    email = String(load_default="", validate=[ma.validate.Length(max=200), _as_in_a_file(cells.email)])
    password = String(load_default=None, load_only=True, validate=ma.validate.Length(min=1, max=1024), metadata={
        "description": NEW_PASSWORD["description"] + " Left out for an inspector or liaison: nobody is told a "
                       "password, and their phone is set up with a one-time code (POST /users/{id}/enrolment). "
                       "Required for staff."})


class UserImportFormSchema(ImportFormSchema):
    campaign_id = Integer(load_default=None, metadata={"description": "admins with several campaigns"})


class UserImportReportSchema(ImportReportSchema):
    generated_passwords = ma.fields.Dict(keys=String(), values=String(), metadata={
        "description": "Username → the password made up for each new account the file gave none; shown this "
                       "once, stored only as a hash. Empty after a dry run."})
