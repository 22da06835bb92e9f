"""The requests awaiting a supervisor's decision (延期 / 回退 / 挂账 / 作废), oldest first, each
with enough of its order to decide from the list: unit, category, description, deadline, level."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server import keyset
from server.auth.scope import Reach, orders_condition
from server.findings.models import Finding
from server.orders.models import Order, OrderRequest, RequestKind, RequestStatus
from server.units.models import Unit

OLDEST_FIRST = (keyset.Key(OrderRequest.requested_at, "datetime"), keyset.Key(OrderRequest.id, "uuid"))


def list_requests(session: Session, reach: Reach, *, status: RequestStatus, kinds: tuple[RequestKind, ...] = (),
                  unit_ids: tuple[int, ...] = (), limit: int, after: str | None = None,
                  now: dt.datetime) -> dict[str, Any]:
    stmt = (sa.select(OrderRequest, Order, Finding, Unit.name)
            .join(Order, Order.id == OrderRequest.order_id).join(Finding, Finding.id == Order.finding_id)
            .outerjoin(Unit, Unit.id == Order.unit_id)
            .where(OrderRequest.status == status, orders_condition(reach)))
    if kinds:
        stmt = stmt.where(OrderRequest.kind.in_(kinds))
    if unit_ids:
        stmt = stmt.where(Order.unit_id.in_(unit_ids))
    total = session.scalar(stmt.with_only_columns(sa.func.count()).order_by(None))
    if after:
        stmt = stmt.where(keyset.after(OLDEST_FIRST, after))
    rows = session.execute(stmt.order_by(*(k.ordering() for k in OLDEST_FIRST)).limit(limit + 1)).all()
    rows, next_after = keyset.page(rows, limit, OLDEST_FIRST, lambda row: (row[0].requested_at, row[0].id))
    items = []
    for req, order, finding, unit_name in rows:
        items.append({**{c.key: getattr(req, c.key) for c in sa.inspect(OrderRequest).column_attrs},
                      "order": {"id": order.id, "status": order.status.value, "level": order.level,
                                "due_at": order.due_at, "unit_id": order.unit_id, "unit_name": unit_name,
                                "category": finding.category, "description": finding.description,
                                "location_text": finding.location_text,
                                "overdue": order.due_at is not None and order.due_at < now
                                and order.status.value == "issued"}})
    return {"items": items, "next_after": next_after, "total": total}
