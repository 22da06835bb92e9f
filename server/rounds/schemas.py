from __future__ import annotations

import marshmallow as ma

from server.rounds.models import RoundMode, RoundStatus


class TeamSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    leader_id = ma.fields.Integer(allow_none=True)
    member_ids = ma.fields.Method("_member_ids")
    unit_ids = ma.fields.Method("_unit_ids")

    def _member_ids(self, team) -> list[int]:  # type: ignore[no-untyped-def]
        return sorted(m.user_id for m in team.members)

    def _unit_ids(self, team) -> list[int]:  # type: ignore[no-untyped-def]
        return sorted(a.unit_id for a in team.assignments)


class RoundSchema(ma.Schema):
    id = ma.fields.Integer()
    campaign_id = ma.fields.Integer()
    name = ma.fields.String()
    mode = ma.fields.Enum(RoundMode, by_value=True)
    status = ma.fields.Enum(RoundStatus, by_value=True)
    starts_on = ma.fields.Date()
    ends_on = ma.fields.Date()
    standard_id = ma.fields.Integer()


class RoundDetailSchema(RoundSchema):
    teams = ma.fields.List(ma.fields.Nested(TeamSchema))
