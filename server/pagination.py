"""Keyset pagination for list endpoints: stable under concurrent inserts, cheap at any depth."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from sync_protocol.fields import Integer


def _at_most_page_max(value: int) -> None:
    # Refused, not capped: a client asking for more than it gets would take a short page for the last one.
    ceiling = current_app.config["PAGE_SIZE_MAX"]
    if value > ceiling:
        raise ma.ValidationError(f"must be at most {ceiling}")


def page_limit() -> Integer:
    """The ``?limit=`` of every list endpoint."""
    return Integer(load_default=None, validate=[ma.validate.Range(min=1), _at_most_page_max], metadata={
        "description": "Items per page (default XUNCHA_PAGE_SIZE_DEFAULT, at most XUNCHA_PAGE_SIZE_MAX)"})


class PageArgsSchema(ma.Schema):
    limit = page_limit()
    after = Integer(load_default=None, metadata={"description": "The next_after value of the previous page"})


def page_schema(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    return ma.Schema.from_dict({
        "items": ma.fields.List(ma.fields.Nested(item_schema)),
        "next_after": Integer(allow_none=True, metadata={
            "description": "Pass as ?after= for the next page; null on the last page"}),
    }, name=f"{item_schema.__name__.removesuffix('Schema')}PageSchema")


def page_size(asked: int | None) -> int:
    """The page size a list answers with: as asked (past PAGE_SIZE_MAX was refused by
    :func:`page_limit`), or the default."""
    return asked or current_app.config["PAGE_SIZE_DEFAULT"]


def paginate(session: Session, stmt: sa.Select[Any], id_column: sa.ColumnElement[int],
             args: dict[str, Any], *, newest_first: bool = False) -> dict[str, Any]:
    limit = page_size(args["limit"])
    if args["after"] is not None:
        stmt = stmt.where(id_column < args["after"] if newest_first else id_column > args["after"])
    order = id_column.desc() if newest_first else id_column
    rows = session.scalars(stmt.order_by(order).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_after": rows[-1].id if more else None}
