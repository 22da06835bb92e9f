"""Request and response schemas of the assessment and report API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma
from flask import current_app

from server.assessment.models import CircularStatus, TierMethod
from server.reports import messages
from sync_protocol.fields import Date, DateTime, Integer, String

_score = dict(as_string=True, places=2, validate=ma.validate.Range(min=0, max=10000))


class TierSchema(ma.Schema):
    name = String(required=True, validate=ma.validate.Length(min=1, max=20))
    label = String(load_default="", validate=ma.validate.Length(max=60),
                             metadata={"description": "As printed before the list, e.g. 好的部门、单位"})
    min_score = ma.fields.Decimal(load_default=None, allow_none=True, **_score)
    quota = ma.fields.Decimal(load_default=None, allow_none=True, as_string=True,
                              validate=ma.validate.Range(min=0, max=1, min_inclusive=False))


class OrderDeductionsSchema(ma.Schema):
    overdue = ma.fields.Decimal(load_default=None, allow_none=True, **_score)
    escalated = ma.fields.Decimal(load_default=None, allow_none=True, **_score)
    rejected = ma.fields.Decimal(load_default=None, allow_none=True, **_score)
    cap = ma.fields.Decimal(load_default=None, allow_none=True, **_score)


class ExclusionSchema(ma.Schema):
    unit_id = Integer(required=True)
    reason = String(required=True, validate=ma.validate.Length(min=1, max=200),
                              metadata={"description": "e.g. 因体制问题未解决"})
    unit_name = String(dump_only=True)

    @ma.validates("reason")
    def _not_blank(self, value: str, **_: Any) -> None:
        if not value.strip():
            raise ma.ValidationError("must not be blank")


class GroupTiersSchema(ma.Schema):
    name = String(required=True, validate=ma.validate.Length(min=1, max=100),
                            metadata={"description": "an assessment group (考核组别) of the campaign"})
    tier_method = ma.fields.Enum(TierMethod, by_value=True, required=True)
    tiers = ma.fields.List(ma.fields.Nested(TierSchema), required=True, validate=ma.validate.Length(min=1, max=10))


class SourceSchema(ma.Schema):
    round_id = Integer(required=True)
    weight = ma.fields.Decimal(required=True, as_string=True, places=2,
                               validate=ma.validate.Range(min=0, max=1000, min_inclusive=False))


class AssessmentConfigSchema(ma.Schema):
    tier_method = ma.fields.Enum(TierMethod, by_value=True)
    tiers = ma.fields.List(ma.fields.Nested(TierSchema), validate=ma.validate.Length(min=1, max=10))
    rank_by_group = ma.fields.Boolean()
    groups = ma.fields.List(ma.fields.Nested(GroupTiersSchema), validate=ma.validate.Length(max=50),
                            metadata={"description": "groups placed in tiers of their own; replaces the list"})
    sources = ma.fields.List(ma.fields.Nested(SourceSchema), validate=ma.validate.Length(max=100),
                             metadata={"description": "rounds this one's result combines by weight (annual); "
                                                      "replaces the list"})
    order_deductions = ma.fields.Nested(OrderDeductionsSchema)
    requirements = String(validate=ma.validate.Length(max=20000))
    closing = String(validate=ma.validate.Length(max=2000))
    exclusions = ma.fields.List(ma.fields.Nested(ExclusionSchema), validate=ma.validate.Length(max=1000))


class UnitResultSchema(ma.Schema):
    unit_id = Integer()
    code = String()
    name = String()
    group = String()
    status = String(metadata={"description": "scored, not_visited or excluded"})
    reason = String()
    visits = Integer()
    score = ma.fields.Decimal(as_string=True, allow_none=True)
    checklist = ma.fields.Decimal(as_string=True, allow_none=True)
    orders = ma.fields.Decimal(as_string=True, allow_none=True)
    items = ma.fields.Dict(keys=String(), values=ma.fields.Decimal(as_string=True, allow_none=True))
    rank = Integer(allow_none=True)
    tier = String(allow_none=True)
    unanswered = Integer()
    failed = Integer()
    order_facts = ma.fields.Dict(keys=String(), values=Integer())
    entered = ma.fields.Boolean(metadata={"description": "the result was entered by the office (score sheet)"})
    adjustment = ma.fields.Decimal(as_string=True, allow_none=True,
                                   metadata={"description": "综合评议: points added to the score (negative: taken off)"})
    adjustment_reason = String()
    note = String()
    parts = ma.fields.Dict(keys=String(), values=ma.fields.Decimal(as_string=True, allow_none=True),
                           metadata={"description": "combined results: each source round's score by round id"})


class RankingGroupSchema(ma.Schema):
    name = String()
    unit_ids = ma.fields.List(Integer())
    tiers = ma.fields.List(ma.fields.Nested(TierSchema),
                           metadata={"description": "the group's own; empty: the round's"})


class ItemColumnSchema(ma.Schema):
    code = String()
    text = String()
    category = String()
    max_score = ma.fields.Decimal(as_string=True)


class RoundResultSchema(ma.Schema):
    round_id = Integer()
    round_name = String()
    standard = String()
    scoring_model = String()
    full_score = ma.fields.Decimal(as_string=True)
    as_of = DateTime()
    tier_method = String()
    tiers = ma.fields.List(ma.fields.Nested(TierSchema))
    rank_by_group = ma.fields.Boolean()
    items = ma.fields.List(ma.fields.Nested(ItemColumnSchema))
    units = ma.fields.List(ma.fields.Nested(UnitResultSchema))
    ranking = ma.fields.List(ma.fields.Nested(RankingGroupSchema))


_text = String(validate=ma.validate.Length(max=20000))


class SubsectionSchema(ma.Schema):
    heading = String(required=True, validate=ma.validate.Length(min=1, max=200))
    paragraphs = ma.fields.List(_text, load_default=list)
    figures = ma.fields.List(String(), load_default=list)


class SectionSchema(SubsectionSchema):
    subsections = ma.fields.List(ma.fields.Nested(SubsectionSchema), load_default=list)


_cell = String(validate=ma.validate.Length(max=500))


class AttachmentSchema(ma.Schema):
    title = String(required=True, validate=ma.validate.Length(min=1, max=200))
    headers = ma.fields.List(_cell, required=True, validate=ma.validate.Length(min=1, max=30))
    rows = ma.fields.List(ma.fields.List(_cell, validate=ma.validate.Length(max=30)), load_default=list,
                          validate=ma.validate.Length(max=5000))


class CircularHeaderSchema(ma.Schema):
    """What the clerk sets on a circular rather than the data; kept when the draft is generated again."""

    issuer = String(validate=ma.validate.Length(max=100),
                              metadata={"description": "发文机关标志, e.g. 安康市双创办文件; empty: none"})
    number = String(validate=ma.validate.Length(max=100),
                              metadata={"description": "文号, e.g. 安双创办发〔2008〕19号"})
    addressees = String(validate=ma.validate.Length(max=2000),
                                  metadata={"description": "主送机关; default: the groups of the round's units"})
    dated = String(validate=ma.validate.Length(max=40),
                             metadata={"description": "成文日期 as printed, e.g. 2008年11月29日; publishing keeps it"})
    copies = String(validate=ma.validate.Length(max=2000), metadata={"description": "版记: 抄送"})
    printer = String(validate=ma.validate.Length(max=200),
                               metadata={"description": "版记: 印发机关; empty: the 落款's office"})
    printed = String(validate=ma.validate.Length(max=40),
                               metadata={"description": "版记: 印发日期; empty: the 成文日期"})


class DocumentSchema(CircularHeaderSchema):
    issuer = String(load_default="", validate=ma.validate.Length(max=100))
    number = String(load_default="", validate=ma.validate.Length(max=100))
    copies = String(load_default="", validate=ma.validate.Length(max=2000))
    printer = String(load_default="", validate=ma.validate.Length(max=200))
    printed = String(load_default="", validate=ma.validate.Length(max=40))
    attachments = ma.fields.List(ma.fields.Nested(AttachmentSchema), load_default=list,
                                 validate=ma.validate.Length(max=10))
    title = String(required=True, validate=ma.validate.Length(min=1, max=200))
    addressees = String(load_default="", validate=ma.validate.Length(max=2000))
    opening = ma.fields.List(_text, load_default=list)
    sections = ma.fields.List(ma.fields.Nested(SectionSchema), required=True,
                              validate=ma.validate.Length(min=1, max=30))
    closing = ma.fields.List(_text, load_default=list)
    office = String(load_default="", validate=ma.validate.Length(max=200))
    dated = String(load_default="", validate=ma.validate.Length(max=40))


class CircularSchema(ma.Schema):
    id = Integer()
    round_id = Integer()
    status = ma.fields.Enum(CircularStatus, by_value=True)
    version = Integer()
    generated_at = DateTime()
    published_at = DateTime(allow_none=True)
    document = ma.fields.Nested(DocumentSchema)


class CircularEditSchema(ma.Schema):
    version = Integer(required=True, metadata={"description": "The version the edit was made on"})
    document = ma.fields.Nested(DocumentSchema, required=True)


class BulletinArgsSchema(ma.Schema):
    start = Date(required=True, metadata={"description": "First day, in the campaign's time zone"})
    end = Date(required=True, metadata={"description": "Last day, included"})
    campaign_id = Integer(load_default=None, metadata={"description": "For admins of several campaigns"})

    @ma.validates_schema
    def _period(self, data: dict[str, Any], **_: Any) -> None:
        start, end = data.get("start"), data.get("end")
        if start is None or end is None:
            return
        if end < start:
            raise ma.ValidationError("must not be before start", field_name="end")
        longest = current_app.config["BULLETIN_MAX_DAYS"]
        if (end - start) >= dt.timedelta(days=longest):
            raise ma.ValidationError(messages.say("bulletin_too_long", days=longest), field_name="end")


class BulletinRowSchema(ma.Schema):
    name = String()
    found = Integer()
    rectified = Integer()
    overdue = Integer()
    escalated = Integer(metadata={"description": "orders that climbed (not steps)"})
    on_time = Integer(metadata={"description": "of the rectified, those never escalated for a missed deadline"})
    rebounds = Integer(metadata={"description": "反弹: orders raised for a problem found again after closing"})
    action = String(metadata={"description": "by category: the work as reports name it, e.g. 清理乱堆杂物"})
    word = String(metadata={"description": "by category: the measure word, e.g. 起, 条, 人次"})


class BulletinSchema(ma.Schema):
    campaign = String()
    start = Date()
    end = Date()
    totals = ma.fields.Nested(BulletinRowSchema)
    by_category = ma.fields.List(ma.fields.Nested(BulletinRowSchema))
    by_unit = ma.fields.List(ma.fields.Nested(BulletinRowSchema))
    by_level = ma.fields.List(ma.fields.Nested(BulletinRowSchema))
    ordered = Integer(metadata={"description": "orders of the findings found in the period"})
    ordered_closed = Integer(metadata={"description": "of those, closed by the period's end"})
    rectification_rate = ma.fields.Float(allow_none=True, metadata={"description": "整改率: ordered_closed / ordered"})
    on_time_rate = ma.fields.Float(allow_none=True, metadata={"description": "on_time / rectified"})
    number = Integer(allow_none=True, metadata={"description": "第N期 once the period is issued"})
