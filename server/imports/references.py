"""Looking up the campaign's units by the codes files refer to them with."""

from __future__ import annotations

import sqlalchemy as sa

from server.imports.base import Context
from server.imports.messages import say
from server.messages import Said
from server.units.models import Unit


class UnitCodes:
    """The campaign's unit ids by code, loaded once per import."""

    def __init__(self, context: Context) -> None:
        rows = context.session.execute(
            sa.select(Unit.code, Unit.name, Unit.id).where(Unit.campaign_id == context.campaign.id)).all()
        self.ids = {code: id_ for code, _name, id_ in rows}
        self._code_by_name = {name: code for code, name, _id in rows}
        self.campaign = context.campaign.name

    def find(self, text: str) -> int | None:
        """A unit named by code or, as clerks write them, by name."""
        found = self.ids.get(text)
        if found is None and text in self._code_by_name:
            found = self.ids[self._code_by_name[text]]
        return found

    def unknown(self, code: str) -> Said:
        """Why ``code`` names no unit, hinting at the code when the file gave the unit's name."""
        if code in self._code_by_name:
            return say("unknown_unit_named", code=code, campaign=self.campaign, unit=self._code_by_name[code])
        return say("unknown_unit", code=code, campaign=self.campaign)
