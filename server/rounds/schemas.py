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
