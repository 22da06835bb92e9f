from __future__ import annotations

import zoneinfo

import marshmallow as ma
from sync_protocol.fields import Date, Integer, String


def _timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ma.ValidationError(f"{value!r} is not an IANA time zone such as Asia/Shanghai") from None


_group = String(validate=ma.validate.Length(min=1, max=100))


class CampaignSchema(ma.Schema):
    id = Integer(dump_only=True)
    name = String(required=True, validate=ma.validate.Length(min=1, max=200))
    office = String(validate=ma.validate.Length(max=200),
                              metadata={"description": "The issuing office named in circulars, e.g. 市双创办"})
    timezone = String(validate=_timezone)
    starts_on = Date(allow_none=True)
    ends_on = Date(allow_none=True)
    groups = ma.fields.List(_group, validate=ma.validate.Length(max=50),
                            metadata={"description": "Assessment groups (考核组别), in the order circulars list them"})

    @ma.post_dump(pass_original=True)
    def _group_names(self, data, original, **_kwargs):  # type: ignore[no-untyped-def]
        if hasattr(original, "groups"):
            data["groups"] = [group.name for group in original.groups]
        return data


class CampaignUpdateSchema(CampaignSchema):
    """Every field optional: a change names only what changes."""
