"""Reading findings within the caller's scope: one by id with its evidence, or a filtered list.

The list runs newest first by the server's receipt time (a phone's clock is evidence, not an
order), paged by keyset so it stays stable while phones keep syncing new ones in.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server import keyset
from server.auth.models import User
from server.auth.scope import Reach, findings_condition
from server.errors import NotFound
from server.findings.evidence import photos_named
from server.findings.models import Finding, FindingStatus
from server.orders.models import Order
from server.rounds.models import Round
from server.units.models import Unit


NEWEST_FIRST = (keyset.Key(Finding.created_at, "datetime", descending=True),
                keyset.Key(Finding.id, "uuid", descending=True))


@dataclass(frozen=True)
class FindingFilters:
    round_id: int | None = None
    unit_id: int | None = None
    visit_id: uuid.UUID | None = None
    inspector_id: int | None = None
    categories: tuple[str, ...] = ()
    status: FindingStatus | None = None


def names_of(session: Session, findings: list[Finding]) -> dict[str, dict[int, str]]:
    """Unit, round and reporter names of a page of findings, three small reads."""
    def read(column_id: Any, column_name: Any, ids: set[int | None]) -> dict[int, str]:
        wanted = sorted(i for i in ids if i is not None)
        return dict(session.execute(sa.select(column_id, column_name).where(column_id.in_(wanted))).all()) \
            if wanted else {}
    return {"unit": read(Unit.id, Unit.name, {f.unit_id for f in findings}),
            "round": read(Round.id, Round.name, {f.round_id for f in findings}),
            "user": read(User.id, User.display_name, {f.reported_by for f in findings})}


def present(finding: Finding, names: dict[str, dict[int, str]]) -> dict[str, Any]:
    return {**{c.key: getattr(finding, c.key) for c in sa.inspect(Finding).column_attrs},
            "unit_name": names["unit"].get(finding.unit_id) if finding.unit_id else None,
            "round_name": names["round"].get(finding.round_id) if finding.round_id else None,
            "reporter_name": names["user"].get(finding.reported_by)}


def get_finding(session: Session, reach: Reach, finding_id: uuid.UUID) -> dict[str, Any]:
    """A finding with its before-photos and its orders; 404 outside the caller's scope."""
    finding = session.scalar(sa.select(Finding).where(Finding.id == finding_id, findings_condition(reach)))
    if finding is None:
        raise NotFound(f"No finding {finding_id}.")
    orders = session.execute(sa.select(Order.id, Order.status).where(Order.finding_id == finding.id)
                             .order_by(Order.issued_at)).all()
    return {**present(finding, names_of(session, [finding])),
            "photos": photos_named(session, finding_ids=[finding.id]),
            "orders": [{"id": order_id, "status": status.value} for order_id, status in orders]}


def list_findings(session: Session, reach: Reach, filters: FindingFilters, *, limit: int,
                  after: str | None = None) -> dict[str, Any]:
    stmt = sa.select(Finding).where(findings_condition(reach))
    for column, value in ((Finding.round_id, filters.round_id), (Finding.unit_id, filters.unit_id),
                          (Finding.visit_id, filters.visit_id), (Finding.reported_by, filters.inspector_id),
                          (Finding.status, filters.status)):
        if value is not None:
            stmt = stmt.where(column == value)
    if filters.categories:
        stmt = stmt.where(Finding.category.in_(filters.categories))
    if after is not None:
        stmt = stmt.where(keyset.after(NEWEST_FIRST, after))
    rows = list(session.scalars(stmt.order_by(*(k.ordering() for k in NEWEST_FIRST)).limit(limit + 1)))
    rows, next_after = keyset.page(rows, limit, NEWEST_FIRST, lambda f: (f.created_at, f.id))
    names = names_of(session, rows)
    return {"items": [present(f, names) for f in rows], "next_after": next_after}
