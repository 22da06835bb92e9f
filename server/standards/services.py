"""Standards (考核细则) as the office keeps them: imported from a spreadsheet, published, exported."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from server.audit.services import record
from server.auth.models import User
from server.auth.scope import campaign_condition
from server.clock import Clock
from server.errors import Conflict, NotFound
from server.imports import standards as standard_file
from server.imports.writers import table_bytes
from server.standards.models import Standard, StandardItem


def standard_of(session: Session, user: User, standard_id: int) -> Standard:
    """A standard version of a campaign ``user`` sets up, with its items; 404 otherwise."""
    found = session.scalar(sa.select(Standard).where(Standard.id == standard_id,
                                                     campaign_condition(user, Standard.campaign_id))
                           .options(selectinload(Standard.items).selectinload(StandardItem.section)))
    if found is None:
        raise NotFound(f"No standard {standard_id}.")
    return found


def publish(session: Session, clock: Clock, user: User | None, standard: Standard) -> Standard:
    """Freeze a draft version: later imports of its code make a new version. Does not commit."""
    if standard.published_at is not None:
        raise Conflict(f"Version {standard.version} of standard {standard.code} is published already.")
    standard.published_at = clock.now()
    session.flush()
    record(session, clock, "standard.published", actor_id=user.id if user else None, entity="standard",
           entity_id=standard.id, data={"code": standard.code, "version": standard.version})
    return standard


def export(standard: Standard, fmt: str) -> bytes:
    """The standard as a file its import reads back: ``xlsx`` or ``csv``."""
    return table_bytes(standard_file.rows(standard), fmt, title=standard.code)
