from __future__ import annotations

import marshmallow as ma

from server.rounds.models import RoundMode, RoundStatus
from sync_protocol.fields import Date, Integer, String


class TeamSchema(ma.Schema):
    id = Integer()
    name = String()
    leader_id = Integer(allow_none=True)
    member_ids = ma.fields.Method("_member_ids")
    unit_ids = ma.fields.Method("_unit_ids")

    def _member_ids(self, team) -> list[int]:  # type: ignore[no-untyped-def]
        return sorted(m.user_id for m in team.members)

    def _unit_ids(self, team) -> list[int]:  # type: ignore[no-untyped-def]
        return sorted(a.unit_id for a in team.assignments)


class RoundSchema(ma.Schema):
    id = Integer()
    campaign_id = Integer()
    name = String()
    mode = ma.fields.Enum(RoundMode, by_value=True)
    status = ma.fields.Enum(RoundStatus, by_value=True)
    starts_on = Date()
    ends_on = Date()
    standard_id = Integer()


class RoundDetailSchema(RoundSchema):
    teams = ma.fields.List(ma.fields.Nested(TeamSchema))


class RoundCreateSchema(ma.Schema):
    campaign_id = Integer(load_default=None, metadata={"description": "admins with several campaigns"})
    name = String(required=True, validate=ma.validate.Length(min=1, max=200))
    mode = ma.fields.Enum(RoundMode, by_value=True, required=True,
                          metadata={"description": "open (平时检查), unannounced (暗访), recheck (复查), "
                                                   "quarterly (季度考核), special (专项), annual (年度考核)"})
    status = ma.fields.Enum(RoundStatus, by_value=True, load_default=None)
    starts_on = Date(required=True)
    ends_on = Date(required=True)
    standard_id = Integer(load_default=None, metadata={"description": "a version's id"})
    standard_code = String(load_default=None, metadata={"description": "the newest version of this code"})

    @ma.validates_schema
    def _one_standard(self, data, **_kwargs):  # type: ignore[no-untyped-def]
        if (data.get("standard_id") is None) == (data.get("standard_code") is None):
            raise ma.ValidationError("give standard_id or standard_code", field_name="standard_id")


class RoundUpdateSchema(ma.Schema):
    name = String(validate=ma.validate.Length(min=1, max=200))
    mode = ma.fields.Enum(RoundMode, by_value=True)
    status = ma.fields.Enum(RoundStatus, by_value=True)
    starts_on = Date()
    ends_on = Date()


class EnteredResultSchema(ma.Schema):
    """One unit's result as typed in; the same fields as a score sheet's columns."""

    unit = ma.fields.Raw(required=True, metadata={"description": "the unit's code or name"})
    score = ma.fields.Raw(load_default=None, metadata={"description": "得分, e.g. \"92.5\""})
    tier = String(load_default=None, metadata={"description": "等次 given directly"})
    adjustment = ma.fields.Raw(load_default=None, metadata={"description": "综合评议: points added (negative: off)"})
    adjustment_reason = String(load_default=None)
    note = String(load_default=None)
    excluded_reason = String(load_default=None, metadata={"description": "暂不排序原因"})


class EnteredResultsSchema(ma.Schema):
    results = ma.fields.List(ma.fields.Nested(EnteredResultSchema), required=True,
                             metadata={"description": "best first where only tiers are known: the order is kept"})
