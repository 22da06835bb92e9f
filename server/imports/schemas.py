"""The API's shapes for imports and exports, shared by every list a clerk keeps in a spreadsheet."""

from __future__ import annotations

import marshmallow as ma

from server.imports.writers import FORMATS
from sync_protocol.fields import Integer, String


class ImportFormSchema(ma.Schema):
    dry_run = ma.fields.Boolean(load_default=False,
                                metadata={"description": "check the file and count the changes, writing nothing"})


class CampaignImportFormSchema(ImportFormSchema):
    """A file imported into a campaign rather than a round."""

    campaign_id = Integer(load_default=None, metadata={"description": "admins with several campaigns"})


class ImportReportSchema(ma.Schema):
    kind = String()
    source = String()
    campaign = String()
    dry_run = ma.fields.Boolean()
    created = Integer()
    updated = Integer()
    unchanged = Integer()
    notes = ma.fields.List(String())


class ExportArgsSchema(ma.Schema):
    format = String(load_default="xlsx", validate=ma.validate.OneOf(FORMATS))


class CampaignExportArgsSchema(ExportArgsSchema):
    """A campaign's list rather than a round's."""

    campaign_id = Integer(load_default=None, metadata={"description": "admins with several campaigns"})
