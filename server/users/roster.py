"""The people an admin or supervisor manages, as the office's list shows them: who they are, and
the state of their account (disabled, locked out, last login, their phones).

Which people is :func:`server.auth.scope.accounts_condition`: the same rule that lets the caller
change them. A page is read in a few queries whatever its length.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.audit.models import AuditEvent
from server.auth.models import AuthToken, Device, Role, User
from server.auth.scope import Who, accounts_condition
from server.campaigns.models import Campaign
from server.units.models import Unit

#: The browser a console login registers (server.web.views.BROWSER): not a phone.
WEB_PLATFORM = "web"


@dataclass(frozen=True)
class Filters:
    role: Role | None = None
    campaign_id: int | None = None
    unit_id: int | None = None
    #: In the username, name, phone or e-mail.
    text: str = ""
    #: True: only active accounts; False: only disabled ones; None: both.
    active: bool | None = None


@dataclass(frozen=True)
class Person:
    user: User
    campaign: str | None
    unit: str | None
    #: The newest login token the account was given (a login, an enrolment, a password change),
    #: as far back as tokens are kept.
    last_login: dt.datetime | None
    #: Phones the account logged in on (not browsers), and when one was last seen.
    phones: int
    phone_seen: dt.datetime | None
    #: Seconds until a locked-out account may try again; None when it is not locked out.
    locked_for: int | None


def people(session: Session, who: Who, filters: Filters, *, locked_for: Callable[[str], int | None],
           after: str = "", limit: int = 50) -> tuple[list[Person], str | None]:
    """A page of the people ``who`` manages, by username, from after ``after``; and the username to
    go on from, or None on the last page."""
    stmt = (sa.select(User, Campaign.name, Unit.name).outerjoin(Campaign, Campaign.id == User.campaign_id)
            .outerjoin(Unit, Unit.id == User.unit_id).where(accounts_condition(who)))
    if filters.role is not None:
        stmt = stmt.where(User.role == filters.role)
    if filters.campaign_id is not None:
        stmt = stmt.where(User.campaign_id == filters.campaign_id)
    if filters.unit_id is not None:
        stmt = stmt.where(User.unit_id == filters.unit_id)
    if filters.active is not None:
        stmt = stmt.where(User.active.is_(filters.active))
    if filters.text:
        pattern = "%" + filters.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(sa.or_(*(column.ilike(pattern, escape="\\")
                                   for column in (User.username, User.display_name, User.phone, User.email))))
    if after:
        stmt = stmt.where(User.username > after)
    rows = session.execute(stmt.order_by(User.username).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    ids = [user.id for user, _c, _u in rows]
    logins = last_logins(session, ids)
    phones = {user_id: (count, seen) for user_id, count, seen in session.execute(
        sa.select(Device.user_id, sa.func.count(), sa.func.max(Device.last_seen_at))
        .where(Device.user_id.in_(ids), Device.platform != WEB_PLATFORM, Device.revoked_at.is_(None))
        .group_by(Device.user_id))}
    found = [Person(user, campaign, unit, logins.get(user.id), *phones.get(user.id, (0, None)),
                    locked_for=locked_for(user.username)) for user, campaign, unit in rows]
    return found, (rows[-1][0].username if more else None)


def last_logins(session: Session, user_ids: list[int]) -> dict[int, dt.datetime]:
    """When each account was last given a login token, as far back as tokens are kept."""
    return dict(session.execute(sa.select(AuthToken.user_id, sa.func.max(AuthToken.created_at))  # type: ignore[arg-type]
                                .where(AuthToken.user_id.in_(user_ids)).group_by(AuthToken.user_id)).all())


def history(session: Session, user_id: int, *, limit: int = 20) -> list[AuditEvent]:
    """The newest events of the account itself (created, disabled, reset, codes issued and used)."""
    return list(session.scalars(sa.select(AuditEvent).where(AuditEvent.entity == "user",
                                                            AuditEvent.entity_id == str(user_id))
                                # UUIDv7 ids: the order of events recorded at one clock reading
                                .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(limit)))
