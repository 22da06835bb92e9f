"""Creating, changing, resetting, disabling and enabling accounts, and the audit of failed logins.

Each change here ends every session of the account: its tokens are revoked, not merely refused
while the account is disabled, so enabling it again brings none of them back and a leaked
password stops working everywhere the moment it is changed. Every step is audited; the CLI
(``xuncha reset-password`` ...), the API and the console call the same functions.

Who may change whose account is :func:`server.auth.scope.manages_account`, asked here by
:func:`managed_account` for every step an ``actor`` takes (``actor`` None: the command line,
which may change any account).

Raises :class:`NotFound` for an unknown account or one out of the actor's sight (an admin's,
another campaign's), :class:`Forbidden` for one in sight that the actor does not manage (a fellow
supervisor's), :class:`ValidationFailed` for a new password the policy refuses,
:class:`WrongPassword` (a ValidationFailed) for a wrong current password, :class:`Conflict` for
someone disabling their own account.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from server.audit.models import ActorKind
from server.audit.services import record
from server.auth import passwords, scope
from server.auth.models import Device, Role, User
from server.auth.services import IssuedToken, create_user, issue_token, revoke_all_tokens
from server.clock import Clock
from server.errors import Conflict, Forbidden, NotFound, ValidationFailed
from server.units.models import Unit

if TYPE_CHECKING:
    from server.auth.throttle import Lockout


class WrongPassword(ValidationFailed):
    """The current password given to change it is not the account's."""


def change_password(session: Session, clock: Clock, hasher: PasswordHasher, user: User, device: Device, *,
                    old_password: str, new_password: str, ttl: dt.timedelta) -> IssuedToken:
    """A user changes their own password, proving they know the current one.

    Every token of the account is revoked, the caller's own included; the new token returned is
    for the device the change came from, so it goes on without logging in again.
    """
    if not passwords.verify(hasher, user.password_hash, old_password):
        raise WrongPassword("The current password is wrong.",
                            errors=[{"field": "old_password", "message": "is not the current password"}])
    if new_password == old_password:
        raise ValidationFailed(errors=[{"field": "new_password", "message": "is the current password"}])
    _set_password(hasher, user, new_password, field="new_password")
    revoked = revoke_all_tokens(session, clock, user.id)
    record(session, clock, "auth.password_changed", actor_id=user.id, device_id=device.id, entity="user",
           entity_id=user.id, data={"revoked_tokens": revoked})
    return issue_token(session, clock, user, device, ttl)


def visible_account(session: Session, actor: User, user_id: int) -> User:
    """An account as every read of accounts sees them (GET /users): an admin's account, or
    another campaign's, is answered to a supervisor as if it did not exist."""
    user = session.scalar(sa.select(User).where(User.id == user_id, scope.campaign_condition(actor, User.campaign_id)))
    if user is None:
        raise NotFound(f"No user {user_id}.")
    return user


def managed_account(session: Session, actor: User | None, action: str, user_id: int) -> User:
    """The account ``actor`` takes the account ``action`` (:data:`server.auth.scope.WRITES`) on."""
    if actor is None:
        return _user(session, user_id)
    user = visible_account(session, actor, user_id)
    if not scope.manages_account(actor, action, user.role, user.campaign_id):
        raise Forbidden(f"{user.username} is a {user.role.value}: only an admin manages staff accounts.")
    return user


def create_account(session: Session, clock: Clock, hasher: PasswordHasher, actor: User, *, username: str,
                   display_name: str, role: Role, campaign_id: int | None, unit_id: int | None,
                   password: str | None, phone: str = "", email: str = "") -> User:
    """An admin or a supervisor creates an account (the API and the console), in the campaign
    named (or the actor's own; admins' accounts belong to none). ``password`` None: see
    :func:`server.auth.services.create_user`. Does not commit."""
    from server.campaigns.services import campaign_of

    campaign = None if role is Role.ADMIN else campaign_of(session, actor, campaign_id)
    if not scope.manages_account(actor, "user.create", role, campaign.id if campaign else None):
        raise Forbidden(f"A supervisor creates the inspectors and liaisons of their campaign; staff accounts "
                        f"({role.value}) are created by an admin.")
    if role is Role.LIAISON and unit_id is not None and campaign is not None and session.scalar(
            sa.select(Unit.id).where(Unit.id == unit_id, Unit.campaign_id == campaign.id)) is None:
        raise ValidationFailed(f"There is no unit {unit_id} in {campaign.name}.",
                               errors=[{"field": "unit_id", "message": f"no unit {unit_id} in {campaign.name}"}])
    return create_user(session, clock, hasher, username=username, password=password, display_name=display_name,
                       role=role, campaign_id=campaign.id if campaign else None, unit_id=unit_id, phone=phone,
                       email=email, actor_id=actor.id, actor_kind=ActorKind.USER)


def reset_password(session: Session, clock: Clock, hasher: PasswordHasher, user_id: int, *, password: str,
                   actor: User | None, reason: str = "") -> int:
    """Set a new password for someone who forgot theirs. Returns the tokens revoked."""
    user = managed_account(session, actor, "user.reset_password", user_id)
    _set_password(hasher, user, password, field="password")
    revoked = revoke_all_tokens(session, clock, user.id)
    record(session, clock, "auth.password_reset", **_by(actor), entity="user", entity_id=user.id, reason=reason,
           data={"revoked_tokens": revoked})
    return revoked


def set_active(session: Session, clock: Clock, user_id: int, active: bool, *, actor: User | None,
               reason: str = "") -> int:
    """Disable an account (its tokens are revoked and it cannot log in) or enable it again
    (it logs in afresh; no old token comes back). Returns the tokens revoked."""
    user = managed_account(session, actor, "user.enable" if active else "user.disable", user_id)
    if not active and actor is not None and actor.id == user.id:
        raise Conflict("You cannot disable your own account; another admin can.")
    user.active = active
    revoked = 0 if active else revoke_all_tokens(session, clock, user.id)
    record(session, clock, "user.enabled" if active else "user.disabled", **_by(actor), entity="user",
           entity_id=user.id, reason=reason, data={"revoked_tokens": revoked})
    return revoked


def _by(actor: User | None) -> dict[str, object]:
    """Who an audit event names: the actor, or the system (the command line)."""
    if actor is None:
        return {"actor_id": None, "actor_kind": ActorKind.SYSTEM}
    return {"actor_id": actor.id, "actor_kind": ActorKind.USER}


def user_by_username(session: Session, username: str) -> User:
    user = session.scalar(sa.select(User).where(User.username == username.strip()))
    if user is None:
        raise NotFound(f"No user {username!r}.")
    return user


def account_id(session: Session, username: str) -> int | None:
    """The id of the account a login named, if there is one (for the audit trail)."""
    return session.scalar(sa.select(User.id).where(User.username == username.strip()))


def record_failed_login(session: Session, clock: Clock, *, action: str, user_id: int | None, username: str,
                        address: str, lockouts: list[Lockout]) -> None:
    """Audit a refused login (or password change): the account it named, when there is one,
    and where it came from; then each lockout it caused, once per lockout rather than once per
    refused try, so an attacker hammering a locked account does not flood the trail."""
    who = {"actor_id": user_id, "entity": "user" if user_id else "", "entity_id": user_id or ""}
    record(session, clock, action, **who, data={"username": username, "address": address})
    for lockout in lockouts:
        record(session, clock, "auth.login_locked", **who,
               data={"username": username, "address": address, "limit": lockout.limit,
                     "retry_after": lockout.retry_after})


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id}.")
    return user


def _set_password(hasher: PasswordHasher, user: User, password: str, *, field: str) -> None:
    weakness = passwords.check_strength(password, (user.username, user.display_name, user.email))
    if weakness:
        raise ValidationFailed(f"The new password {weakness}", errors=[{"field": field, "message": weakness}])
    user.password_hash = hasher.hash(password)
