"""The issue queue (问题清单): one query for every reader of it — the orders list, its exports,
the console — so a filter means the same thing on the page, in the CSV and in the counts.

:func:`queue` answers one page of rows in the caller's scope, sorted by deadline, age or level,
and the count per status under every other filter (a status tab shows how many it would list).

Free text is a LIKE per term over the finding's description, category and place and the unit's
name, with the LIKE wildcards escaped. Chinese has no spaces between words, so a word-based
index (PostgreSQL's to_tsvector with the 'simple' parser, SQLite's FTS5 tokenizer) would index
whole phrases and miss "杂物" inside "杂物堆积墙边"; a substring match finds it, and is the same on
SQLite and PostgreSQL. At a campaign's scale (1e5 orders) the scan is cheap beside the scope
join; pg_trgm could index it later without changing this contract.
"""

from __future__ import annotations

import datetime as dt
import enum
import zoneinfo
from dataclasses import dataclass
from typing import Any, Iterator

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server import keyset
from server.attachments.models import FlagKind, PhotoFlag, PhotoRef, PhotoRole
from server.auth.scope import Reach, visible_orders
from server.findings.models import Finding
from server.orders import policy as policies
from server.orders.models import Order, OrderRequest, OrderStatus, RequestStatus, Response
from server.units.models import Unit

#: Deadline-less orders (triage, parked) sort after every dated one.
FAR = dt.datetime(9999, 1, 1, tzinfo=dt.timezone.utc)
#: Most words in one free-text search; each must match somewhere.
MAX_TERMS = 5


class QueueSort(enum.Enum):
    #: The nearest deadline first (the default: what is about to be late).
    DEADLINE = "deadline"
    #: The oldest order first (what has waited longest).
    AGE = "age"
    #: The highest escalation level first, then the nearest deadline.
    LEVEL = "level"


@dataclass(frozen=True)
class QueueFilters:
    """Every filter of the queue; an empty tuple or None means "any"."""

    round_ids: tuple[int, ...] = ()
    group_ids: tuple[int, ...] = ()
    unit_ids: tuple[int, ...] = ()
    categories: tuple[str, ...] = ()
    levels: tuple[int, ...] = ()
    statuses: tuple[OrderStatus, ...] = ()
    #: Issued and past its deadline now.
    overdue: bool | None = None
    needs_supervisor: bool | None = None
    #: Has a photo flag of any of these kinds (before-photos of its finding, or its after-photos).
    flags: tuple[FlagKind, ...] = ()
    #: Has any photo flag at all.
    flagged: bool | None = None
    #: A response of the order names an after-photo.
    has_after_photo: bool | None = None
    #: The inspector who reported the finding.
    inspector_id: int | None = None
    #: Issued on or after this day, and on or before that one, in the campaign's time zone.
    issued_from: dt.date | None = None
    issued_to: dt.date | None = None
    text: str = ""


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _text(text: str) -> list[sa.ColumnElement[bool]]:
    conditions = []
    for term in text.split()[:MAX_TERMS]:
        pattern = _like(term)
        conditions.append(sa.or_(*(column.like(pattern, escape="\\") for column in (
            Finding.description, Finding.category, Finding.location_text, Unit.name))))
    return conditions


def _local_midnight(day: dt.date, tz: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), zoneinfo.ZoneInfo(tz)).astimezone(dt.timezone.utc)


def _flagged(kinds: tuple[FlagKind, ...]) -> sa.Exists:
    """A flag on the finding's before-photos (no order) or on this order's after-photos."""
    stmt = sa.select(PhotoFlag.id).where(PhotoFlag.finding_id == Order.finding_id,
                                         sa.or_(PhotoFlag.order_id.is_(None), PhotoFlag.order_id == Order.id))
    return sa.exists(stmt.where(PhotoFlag.kind.in_(kinds)) if kinds else stmt)


def _late(now: dt.datetime) -> sa.ColumnElement[bool]:
    return sa.and_(Order.status == OrderStatus.ISSUED, Order.due_at < now)


def conditions(filters: QueueFilters, *, now: dt.datetime, tz: str,
               with_status: bool = True) -> list[sa.ColumnElement[bool]]:
    """The filters as conditions on Order joined with its Finding and (outer) its Unit."""
    where: list[sa.ColumnElement[bool]] = []
    for column, values in ((Finding.round_id, filters.round_ids), (Unit.group_id, filters.group_ids),
                           (Order.unit_id, filters.unit_ids), (Finding.category, filters.categories),
                           (Order.level, filters.levels)):
        if values:
            where.append(column.in_(values))
    if with_status and filters.statuses:
        where.append(Order.status.in_(filters.statuses))
    if filters.overdue is not None:
        where.append(_late(now) if filters.overdue else sa.not_(_late(now)))
    if filters.needs_supervisor is not None:
        where.append(Order.needs_supervisor.is_(filters.needs_supervisor))
    if filters.flags:
        where.append(_flagged(filters.flags))
    if filters.flagged is not None:
        where.append(_flagged(()) if filters.flagged else sa.not_(_flagged(())))
    if filters.has_after_photo is not None:
        after = sa.exists(sa.select(PhotoRef.id).join(Response, Response.id == PhotoRef.response_id)
                          .where(Response.order_id == Order.id))
        where.append(after if filters.has_after_photo else sa.not_(after))
    if filters.inspector_id is not None:
        where.append(Finding.reported_by == filters.inspector_id)
    if filters.issued_from is not None:
        where.append(Order.issued_at >= _local_midnight(filters.issued_from, tz))
    if filters.issued_to is not None:
        where.append(Order.issued_at < _local_midnight(filters.issued_to + dt.timedelta(days=1), tz))
    return where + _text(filters.text)


def sort_keys(sort: QueueSort) -> tuple[keyset.Key, ...]:
    due = keyset.Key(sa.func.coalesce(Order.due_at, FAR), "datetime")
    ident = keyset.Key(Order.id, "uuid")
    if sort is QueueSort.AGE:
        return (keyset.Key(Order.issued_at, "datetime"), ident)
    if sort is QueueSort.LEVEL:
        return (keyset.Key(Order.level, "int", descending=True), due, ident)
    return (due, ident)


def _sort_values(sort: QueueSort, order: Order) -> tuple[Any, ...]:
    if sort is QueueSort.AGE:
        return (order.issued_at, order.id)
    due = order.due_at or FAR
    return (order.level, due, order.id) if sort is QueueSort.LEVEL else (due, order.id)


def filtered(reach: Reach, filters: QueueFilters, *, now: dt.datetime, tz: str) -> sa.Select[Any]:
    """(Order, Finding, unit name) of every order the caller sees that the filters keep."""
    return (visible_orders(reach).add_columns(Finding, Unit.name).outerjoin(Unit, Unit.id == Order.unit_id)
            .where(*conditions(filters, now=now, tz=tz)))


def present(session: Session, order: Order, finding: Finding, unit_name: str | None,
            now: dt.datetime) -> dict[str, Any]:
    """An order as a queue row: its fields, its finding's words, its level's name and colour."""
    level = policies.policy(session, order.policy_version).level(order.level)
    return {**{c.key: getattr(order, c.key) for c in sa.inspect(Order).column_attrs},
            "unit_name": unit_name, "category": finding.category, "description": finding.description,
            "location_text": finding.location_text, "round_id": finding.round_id,
            "reported_by": finding.reported_by, "observed_at": finding.observed_at,
            "severity": finding.severity.value, "level_name": level.name, "colour": level.colour,
            "overdue": order.status is OrderStatus.ISSUED and order.due_at is not None and order.due_at < now}


def _page_extras(session: Session, orders: list[Order]) -> dict[str, dict[Any, Any]]:
    """What a row shows beside the order, for a whole page at once: the first before-photo, the
    flag kinds, and the requests awaiting a decision (待办)."""
    if not orders:
        return {"photo": {}, "flags": {}, "pending": {}}
    order_ids = [o.id for o in orders]
    finding_ids = [o.finding_id for o in orders]
    photo: dict[Any, str] = {}
    for finding_id, sha in session.execute(sa.select(PhotoRef.finding_id, PhotoRef.sha256).where(
            PhotoRef.finding_id.in_(finding_ids), PhotoRef.role == PhotoRole.BEFORE)
            .order_by(PhotoRef.created_at.desc(), PhotoRef.id.desc())):
        photo[finding_id] = sha  # the earliest wins, read last
    flags: dict[Any, set[str]] = {}
    for finding_id, order_id, kind in session.execute(sa.select(PhotoFlag.finding_id, PhotoFlag.order_id,
                                                                PhotoFlag.kind).where(
            PhotoFlag.finding_id.in_(finding_ids))):
        flags.setdefault((finding_id, order_id), set()).add(kind.value)
    pending: dict[Any, list[str]] = {}
    for order_id, kind in session.execute(sa.select(OrderRequest.order_id, OrderRequest.kind).where(
            OrderRequest.order_id.in_(order_ids), OrderRequest.status == RequestStatus.PENDING)
            .order_by(OrderRequest.requested_at)):
        pending.setdefault(order_id, []).append(kind.value)
    return {"photo": photo, "flags": flags, "pending": pending}


def _row(session: Session, order: Order, finding: Finding, unit_name: str | None, now: dt.datetime,
         extras: dict[str, dict[Any, Any]]) -> dict[str, Any]:
    kinds = extras["flags"].get((finding.id, None), set()) | extras["flags"].get((finding.id, order.id), set())
    return {**present(session, order, finding, unit_name, now), "before_photo": extras["photo"].get(finding.id),
            "flags": sorted(kinds), "pending_requests": extras["pending"].get(order.id, [])}


def counts(session: Session, reach: Reach, filters: QueueFilters, *, now: dt.datetime,
           tz: str) -> dict[str, int]:
    """Orders per status under every filter but the status one; zeros included."""
    stmt = (visible_orders(reach).with_only_columns(Order.status, sa.func.count())
            .outerjoin(Unit, Unit.id == Order.unit_id)
            .where(*conditions(filters, now=now, tz=tz, with_status=False)).group_by(Order.status))
    found = {status.value: 0 for status in OrderStatus}
    found.update({status.value: n for status, n in session.execute(stmt)})
    return found


def _page(session: Session, reach: Reach, filters: QueueFilters, *, now: dt.datetime, tz: str, sort: QueueSort,
          limit: int, after: str | None) -> tuple[list[dict[str, Any]], str | None]:
    keys = sort_keys(sort)
    stmt = filtered(reach, filters, now=now, tz=tz)
    if after:
        stmt = stmt.where(keyset.after(keys, after))
    rows = session.execute(stmt.order_by(*(k.ordering() for k in keys)).limit(limit + 1)).all()
    rows, next_after = keyset.page(rows, limit, keys, lambda row: _sort_values(sort, row[0]))
    extras = _page_extras(session, [order for order, _, _ in rows])
    return [_row(session, o, f, u, now, extras) for o, f, u in rows], next_after


def queue(session: Session, reach: Reach, filters: QueueFilters, *, now: dt.datetime, tz: str,
          sort: QueueSort = QueueSort.DEADLINE, limit: int = 100, after: str | None = None) -> dict[str, Any]:
    """One page of the queue, its next page's token, the counts per status and the total."""
    items, next_after = _page(session, reach, filters, now=now, tz=tz, sort=sort, limit=limit, after=after)
    per_status = counts(session, reach, filters, now=now, tz=tz)
    total = sum(n for status, n in per_status.items()
                if not filters.statuses or OrderStatus(status) in filters.statuses)
    return {"items": items, "next_after": next_after, "counts": per_status, "total": total}


def every_row(session: Session, reach: Reach, filters: QueueFilters, *, now: dt.datetime, tz: str,
              sort: QueueSort = QueueSort.DEADLINE, max_rows: int, batch: int = 500) -> Iterator[dict[str, Any]]:
    """The whole filtered queue in sort order, up to ``max_rows``, read a page at a time (for
    exports: memory stays bounded whatever the queue's size)."""
    after: str | None = None
    sent = 0
    while sent < max_rows:
        items, after = _page(session, reach, filters, now=now, tz=tz, sort=sort,
                             limit=min(batch, max_rows - sent), after=after)
        yield from items
        sent += len(items)
        if after is None:
            return
