"""The API's shapes for imports and exports, shared by every list a clerk keeps in a spreadsheet."""

from __future__ import annotations

import marshmallow as ma

from server.imports.writers import FORMATS


class ImportFormSchema(ma.Schema):
    dry_run = ma.fields.Boolean(load_default=False,
                                metadata={"description": "check the file and count the changes, writing nothing"})


class ImportReportSchema(ma.Schema):
    kind = ma.fields.String()
    source = ma.fields.String()
    campaign = ma.fields.String()
    dry_run = ma.fields.Boolean()
    created = ma.fields.Integer()
    updated = ma.fields.Integer()
    unchanged = ma.fields.Integer()
    notes = ma.fields.List(ma.fields.String())


class ExportArgsSchema(ma.Schema):
    format = ma.fields.String(load_default="xlsx", validate=ma.validate.OneOf(FORMATS))
