"""Reading visits (检查) within the caller's scope: one by id with its answers and findings, or a
filtered list. Visits are work: a unit's liaison sees none (server.auth.scope)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server import keyset
from server.auth.models import User
from server.auth.scope import Reach, findings_condition, visits_condition
from server.errors import NotFound
from server.findings.models import Finding
from server.rounds.models import Round
from server.units.models import Unit
from server.visits.models import Answer, Visit, VisitStatus


NEWEST_FIRST = (keyset.Key(Visit.started_at, "datetime", descending=True),
                keyset.Key(Visit.id, "uuid", descending=True))


@dataclass(frozen=True)
class VisitFilters:
    round_id: int | None = None
    unit_id: int | None = None
    inspector_id: int | None = None
    status: VisitStatus | None = None


def _visible() -> sa.Select[Any]:
    return (sa.select(Visit, Round.name, Unit.name, User.display_name)
            .join(Round, Round.id == Visit.round_id).join(Unit, Unit.id == Visit.unit_id)
            .join(User, User.id == Visit.inspector_id))


def _present(visit: Visit, round_name: str, unit_name: str, inspector_name: str) -> dict[str, Any]:
    return {**{c.key: getattr(visit, c.key) for c in sa.inspect(Visit).column_attrs},
            "round_name": round_name, "unit_name": unit_name, "inspector_name": inspector_name}


def get_visit(session: Session, reach: Reach, visit_id: uuid.UUID) -> dict[str, Any]:
    """A visit with its answers and the findings recorded on it that the caller may read."""
    row = session.execute(_visible().where(Visit.id == visit_id, visits_condition(reach))).first()
    if row is None:
        raise NotFound(f"No visit {visit_id}.")
    visit = row[0]
    answers = session.scalars(sa.select(Answer).where(Answer.visit_id == visit.id)
                              .order_by(Answer.answered_at, Answer.id)).all()
    findings = session.execute(sa.select(Finding.id, Finding.category, Finding.description).where(
        Finding.visit_id == visit.id, findings_condition(reach)).order_by(Finding.id)).all()
    return {**_present(*row), "answers": answers,
            "findings": [{"id": i, "category": c, "description": d} for i, c, d in findings]}


def list_visits(session: Session, reach: Reach, filters: VisitFilters, *, limit: int,
                after: str | None = None) -> dict[str, Any]:
    """Visits, the latest started first, paged by keyset."""
    stmt = _visible().where(visits_condition(reach))
    for column, value in ((Visit.round_id, filters.round_id), (Visit.unit_id, filters.unit_id),
                          (Visit.inspector_id, filters.inspector_id), (Visit.status, filters.status)):
        if value is not None:
            stmt = stmt.where(column == value)
    if after is not None:
        stmt = stmt.where(keyset.after(NEWEST_FIRST, after))
    rows = session.execute(stmt.order_by(*(k.ordering() for k in NEWEST_FIRST)).limit(limit + 1)).all()
    rows, next_after = keyset.page(rows, limit, NEWEST_FIRST, lambda row: (row[0].started_at, row[0].id))
    return {"items": [_present(*row) for row in rows], "next_after": next_after}
