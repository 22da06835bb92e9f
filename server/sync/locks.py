"""The records a batch of mutations changes, locked before any of them is read (issue 14).

Two pushes that read a record before either writes it would both compute their version, field
stamps and feed payload from the same old row, and the second write would silently undo part
of the first (PostgreSQL at READ COMMITTED re-checks an UPDATE's WHERE on the new row, not the
values computed from the old one). So every record a batch will change is locked first, and
read again under the lock; what the push then computes comes from the row as it is committed.

One global order for every writer: the device's sync state (one row per device), then the
records by table in :data:`LOCK_ORDER`, each table with one ``SELECT … ORDER BY id FOR NO KEY
UPDATE``, then the feed counter as the very last lock (:mod:`server.sync.feed`). Two writers
that take locks in one order cannot wait for each other in a cycle, so they cannot deadlock;
anything else a push writes is a new row (a receipt, an audit event, a new finding and its
order) that nobody else waits for. On SQLite ``FOR UPDATE`` compiles to nothing: the
transaction already holds the database's one write lock (``BEGIN IMMEDIATE``).

``FOR NO KEY UPDATE`` (not ``FOR UPDATE``): records are never deleted (a delete voids), so the
key never changes, and another transaction may still insert rows that refer to a locked one
(a new photo of a finding, a response to an order) while it is held.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.findings.models import Finding
from server.orders.models import Order
from server.visits.models import Visit
from sync_protocol.messages import Op

#: Tables in the order every writer locks them.
LOCK_ORDER: tuple[type, ...] = (Finding, Order, Visit)


def touched(mutations: list[dict[str, Any]]) -> tuple[dict[type, set[Any]], set[Any]]:
    """The ids of existing records each model's rows the batch may change, and the findings
    it deletes (whose open orders are voided with them)."""
    wanted: dict[type, set[Any]] = {model: set() for model in LOCK_ORDER}
    deleted: set[Any] = set()
    for mutation in mutations:
        entity, op = mutation["entity"], mutation["op"]
        if entity == "finding" and op in (Op.UPDATE, Op.DELETE):
            wanted[Finding].add(mutation["id"])
            if op is Op.DELETE:
                deleted.add(mutation["id"])
        elif entity == "visit" and op is Op.UPDATE:
            wanted[Visit].add(mutation["id"])
        elif entity == "order" and op is Op.COMMAND:
            wanted[Order].add(mutation["id"])
        elif entity == "photo" and op is Op.CREATE:
            # A photo of a finding changes the finding (its media status).
            finding_id = _uuid(mutation["fields"].get("finding_id"))
            if finding_id is not None:
                wanted[Finding].add(finding_id)
    return wanted, deleted


def lock(session: Session, wanted: dict[type, set[Any]], *, orders_of: set[Any] = frozenset()) -> list[Any]:
    """Lock the records named, table by table in :data:`LOCK_ORDER` and by id, and return them
    read again under the lock (hold on to the list: the identity map keeps objects weakly).

    ``orders_of``: findings whose orders are locked too (a delete voids them).
    """
    held: list[Any] = []
    for model in LOCK_ORDER:
        ids = wanted.get(model) or set()
        where = model.id.in_(sorted(ids))
        if model is Order and orders_of:
            where = sa.or_(where, Order.finding_id.in_(sorted(orders_of)))
        elif not ids:
            continue
        # populate_existing: a copy already in the session (loaded before the lock was granted)
        # is overwritten with the row as it is now.
        held += session.scalars(sa.select(model).where(where).order_by(model.id)
                                .with_for_update(key_share=True)
                                .execution_options(populate_existing=True)).all()
    return held


def lock_batch(session: Session, mutations: list[dict[str, Any]]) -> list[Any]:
    """Lock every existing record ``mutations`` may change (see :func:`lock`)."""
    wanted, deleted = touched(mutations)
    return lock(session, wanted, orders_of=deleted)


def _uuid(value: Any) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value)) if value is not None else None
    except ValueError:
        return None  # the mutation is rejected when it is applied
