from __future__ import annotations

import marshmallow as ma

from server.imports.schemas import CampaignImportFormSchema
from server.standards.models import ScoringModel
from sync_protocol.fields import DateTime, Integer, String

_score = {"as_string": True, "places": 2}


class StandardItemSchema(ma.Schema):
    code = String()
    section = ma.fields.Function(lambda item: item.section.title)
    text = String()
    category = String()
    max_score = ma.fields.Decimal(**_score)
    deduction_per_instance = ma.fields.Decimal(**_score)
    deduction_rule = String()
    weight = ma.fields.Decimal(**_score)
    photo_required = ma.fields.Boolean()


class StandardSchema(ma.Schema):
    id = Integer()
    campaign_id = Integer()
    code = String()
    version = Integer()
    name = String()
    scoring_model = ma.fields.Enum(ScoringModel, by_value=True)
    full_score = ma.fields.Decimal(**_score)
    published_at = DateTime(allow_none=True)


class StandardDetailSchema(StandardSchema):
    items = ma.fields.List(ma.fields.Nested(StandardItemSchema))


class StandardImportFormSchema(CampaignImportFormSchema):
    code = String(required=True, validate=[ma.validate.Length(min=1, max=64),
                                                     ma.validate.Regexp(r"^\S+$", error="no spaces")])
    name = String(required=True, validate=ma.validate.Length(min=1, max=200))
    full_score = ma.fields.Decimal(load_default=None, places=2, validate=ma.validate.Range(min=1, max=10000))
    scoring_model = ma.fields.Enum(ScoringModel, by_value=True, load_default=ScoringModel.DEDUCTION)


class StandardListArgsSchema(ma.Schema):
    campaign_id = Integer(load_default=None)
