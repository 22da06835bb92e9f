"""Logging in, tokens, devices and users: the rules, independent of HTTP."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from server.audit.models import ActorKind
from server.audit.services import record
from server.auth import passwords
from server.auth.messages import say
from server.auth.models import FIELD_ROLES, AuthToken, Device, Role, User
from server.clock import Clock
from server.errors import (Conflict, DeviceRevoked, DeviceTaken, InvalidCredentials, NotFound, OutboxNotDrained,
                           Unauthenticated, ValidationFailed)

TOKEN_PREFIX = "xc_"
#: A token's last_used_at is refreshed at most this often, so reads do not write on every request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class DeviceInfo:
    id: uuid.UUID | None = None
    name: str = ""
    platform: str = ""
    app_version: str = ""


@dataclass(frozen=True)
class IssuedToken:
    token: str
    record: AuthToken


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(session: Session, hasher: PasswordHasher, username: str, password: str) -> User:
    user = session.scalar(sa.select(User).where(User.username == username.strip()))
    if user is None:
        # Spend the same time as for a real user, so response times do not reveal usernames.
        passwords.verify(hasher, _dummy_hash(hasher), password)
        raise InvalidCredentials()
    if not passwords.verify(hasher, user.password_hash, password) or not user.active:
        raise InvalidCredentials()
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return user


_DUMMY_HASHES: dict[tuple[int, int, int], str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = hasher.hash(secrets.token_hex(16))
    return _DUMMY_HASHES[key]


def register_device(session: Session, clock: Clock, user: User, info: DeviceInfo) -> Device:
    """The device a login comes from; registered on first sight under the id it chose, and
    bound to that user. Another user logs in on it only once its owner released it."""
    device = session.get(Device, info.id) if info.id else None
    if device is None:
        device = Device(id=info.id or uuid.uuid4(), user_id=user.id)
        session.add(device)
        session.flush()  # the audit event below refers to it
        record(session, clock, "device.registered", actor_id=user.id, device_id=device.id,
               entity="device", entity_id=device.id, data={"name": info.name, "platform": info.platform})
    elif device.revoked_at is not None:
        raise DeviceRevoked("An administrator revoked this device; ask them to restore it.")
    elif device.user_id != user.id:
        if device.released_at is None:
            # Said without naming the owner: a device id is not a secret (it travels in records).
            raise DeviceTaken("This device id is registered to another user. Make a new device id and "
                              "log in with it; a shared phone changes hands when its owner releases it.")
        _hand_over(session, clock, device, user)
    device.released_at = None
    device.name = info.name or device.name
    device.platform = info.platform or device.platform
    device.app_version = info.app_version or device.app_version
    device.last_seen_at = clock.now()
    return device


def _hand_over(session: Session, clock: Clock, device: Device, user: User) -> None:
    """A released device to its next owner: nothing the previous owner's pushes earned (stored
    answers, the scopes it pulled) is ever answered to the new one. The sequence mark stays,
    so a mutation left from before the release can never apply as the new owner."""
    from server.sync.models import ScopeSnapshot, SyncReceipt

    session.execute(sa.delete(SyncReceipt).where(SyncReceipt.device_id == device.id))
    session.execute(sa.delete(ScopeSnapshot).where(ScopeSnapshot.device_id == device.id))
    record(session, clock, "device.handed_over", actor_id=user.id, device_id=device.id, entity="device",
           entity_id=device.id, data={"from_user": device.user_id})
    device.user_id = user.id


def release_device(session: Session, clock: Clock, caller: Caller, device_id: uuid.UUID, *, last_seq: int) -> Device:
    """The owner hands a shared phone back, from the phone itself, its outbox drained: the app
    names the highest sequence it ever gave a mutation, and the server must have taken it. The
    device's tokens stop working; the next user to log in on it owns it."""
    from server.sync.models import DeviceSyncState

    device = session.get(Device, device_id)
    if device is None or device.user_id != caller.user_id or caller.device_id != device_id:
        raise NotFound(f"No device {device_id} of this user logged in here.")
    taken = session.scalar(sa.select(DeviceSyncState.last_seq).where(DeviceSyncState.device_id == device_id)) or 0
    if last_seq > taken:
        raise OutboxNotDrained(f"The server has taken this device's mutations up to {taken}, not {last_seq}: "
                               "push the outbox, then release.", acknowledged_seq=taken)
    device.released_at = clock.now()
    revoked = _revoke_where(session, clock, AuthToken.device_id == device_id)
    record(session, clock, "device.released", actor_id=caller.user_id, device_id=device_id, entity="device",
           entity_id=device_id, data={"last_seq": taken, "revoked_tokens": revoked})
    return device


def login(session: Session, clock: Clock, hasher: PasswordHasher, *, username: str, password: str,
          device: DeviceInfo, ttl: dt.timedelta) -> IssuedToken:
    user = authenticate(session, hasher, username, password)
    registered = register_device(session, clock, user, device)
    session.flush()
    issued = issue_token(session, clock, user, registered, ttl)
    record(session, clock, "auth.login", actor_id=user.id, device_id=registered.id,
           entity="user", entity_id=user.id)
    return issued


def issue_token(session: Session, clock: Clock, user: User, device: Device, ttl: dt.timedelta) -> IssuedToken:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    row = AuthToken(token_hash=hash_token(token), user_id=user.id, device_id=device.id,
                    created_at=now, expires_at=now + ttl)
    session.add(row)
    session.flush()
    return IssuedToken(token=token, record=row)


@dataclass(frozen=True)
class Caller:
    """Who a live bearer token speaks for, as plain values: most requests need no more."""

    token_id: int
    user_id: int
    device_id: uuid.UUID
    role: Role
    campaign_id: int | None
    unit_id: int | None
    last_used_at: dt.datetime | None


_tokens, _users, _devices = AuthToken.__table__.c, User.__table__.c, Device.__table__.c
#: Every request runs this: one Core statement on table columns, built once, so its cache key
#: is cheap and no ORM object is made.
_TOKEN_LOOKUP = (
    sa.select(_tokens.id, _tokens.user_id, _tokens.device_id, _users.role, _users.campaign_id, _users.unit_id,
              _tokens.last_used_at, _tokens.revoked_at, _tokens.expires_at, _users.active,
              _devices.revoked_at.label("device_revoked_at"))
    .select_from(AuthToken.__table__.join(User.__table__, _users.id == _tokens.user_id)
                 .join(Device.__table__, _devices.id == _tokens.device_id))
    .where(_tokens.token_hash == sa.bindparam("token_hash")))


def resolve_token(session: Session, clock: Clock, token: str) -> Caller:
    """The caller behind a bearer string, or :class:`Unauthenticated` saying why not.

    Read afresh on every request, so a revocation, an expiry or a logout holds from the next one.
    """
    row = session.connection().execute(_TOKEN_LOOKUP, {"token_hash": hash_token(token)}).one_or_none()
    if row is None:
        raise Unauthenticated("Unknown token; log in again.")
    if row.revoked_at is not None:
        raise Unauthenticated("This token was revoked; log in again.")
    if row.expires_at <= clock.now():
        raise Unauthenticated("This token has expired; log in again.")
    if not row.active:
        raise Unauthenticated("This account is disabled.")
    if row.device_revoked_at is not None:
        raise DeviceRevoked("An administrator revoked this device.")
    return Caller(token_id=row.id, user_id=row.user_id, device_id=row.device_id, role=row.role,
                  campaign_id=row.campaign_id, unit_id=row.unit_id, last_used_at=row.last_used_at)


def needs_touch(caller: Caller, clock: Clock) -> bool:
    return caller.last_used_at is None or clock.now() - caller.last_used_at >= LAST_USED_RESOLUTION


def touch(session: Session, clock: Clock, caller: Caller) -> None:
    """Note that a token and its device were used, in statements that write before they read."""
    now = clock.now()
    session.execute(sa.update(AuthToken).where(AuthToken.id == caller.token_id).values(last_used_at=now))
    session.execute(sa.update(Device).where(Device.id == caller.device_id).values(last_seen_at=now))


def logout(session: Session, clock: Clock, token: AuthToken) -> None:
    token.revoked_at = clock.now()
    record(session, clock, "auth.logout", actor_id=token.user_id, device_id=token.device_id,
           entity="auth_token", entity_id=token.id)


def revoke_token(session: Session, clock: Clock, actor: User, token_id: int, reason: str = "") -> AuthToken:
    token = session.get(AuthToken, token_id)
    if token is None:
        raise NotFound(f"No token {token_id}.")
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        record(session, clock, "auth.token_revoked", actor_id=actor.id, entity="auth_token",
               entity_id=token.id, reason=reason, data={"user_id": token.user_id})
    return token


def revoke_user_tokens(session: Session, clock: Clock, actor: User, user_id: int, reason: str = "") -> int:
    if session.get(User, user_id) is None:
        raise NotFound(f"No user {user_id}.")
    count = _revoke_where(session, clock, AuthToken.user_id == user_id)
    record(session, clock, "auth.user_tokens_revoked", actor_id=actor.id, entity="user",
           entity_id=user_id, reason=reason, data={"revoked": count})
    return count


def revoke_device(session: Session, clock: Clock, actor: User, device_id: uuid.UUID, reason: str = "") -> int:
    """A lost phone: its tokens stop working and it cannot log in again. Returns the tokens revoked."""
    device = session.get(Device, device_id)
    if device is None:
        raise NotFound(f"No device {device_id}.")
    device.revoked_at = device.revoked_at or clock.now()
    count = _revoke_where(session, clock, AuthToken.device_id == device_id)
    record(session, clock, "device.revoked", actor_id=actor.id, entity="device", entity_id=device_id,
           reason=reason, data={"revoked_tokens": count})
    return count


def revoke_all_tokens(session: Session, clock: Clock, user_id: int) -> int:
    """Revoke every live token of an account (the caller records why); returns how many."""
    return _revoke_where(session, clock, AuthToken.user_id == user_id)


def _revoke_where(session: Session, clock: Clock, condition: sa.ColumnElement[bool]) -> int:
    result = session.execute(
        sa.update(AuthToken).where(condition, AuthToken.revoked_at.is_(None)).values(revoked_at=clock.now()))
    return result.rowcount


def purge_expired_tokens(session: Session, clock: Clock, keep: dt.timedelta = dt.timedelta(days=30)) -> int:
    """Delete tokens that expired or were revoked more than ``keep`` ago (kept that long for audits)."""
    horizon = clock.now() - keep
    result = session.execute(sa.delete(AuthToken).where(
        sa.or_(AuthToken.expires_at < horizon, AuthToken.revoked_at < horizon)))
    return result.rowcount


def create_user(session: Session, clock: Clock, hasher: PasswordHasher, *, username: str, password: str | None,
                display_name: str, role: Role, campaign_id: int | None = None, unit_id: int | None = None,
                phone: str = "", email: str = "", actor_id: int | None = None,
                actor_kind: ActorKind = ActorKind.SYSTEM) -> User:
    """A new account. ``password`` None: an inspector's or liaison's whose phone is set up with a
    one-time code (enrolment); its password is a random one nobody is told, until one is reset.
    Staff log in with their password, so theirs is required."""
    problems = user_problems(role=role, unit_id=unit_id, password=password,
                             user_inputs=(username, display_name, email))
    if password is None and role not in FIELD_ROLES:
        problems.append(("password", say("staff_password_required")))
    if problems:
        raise ValidationFailed(errors=[{"field": f, "message": m} for f, m in problems])
    if session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise Conflict(say("username_taken", username=username))
    user = User(username=username, display_name=display_name, role=role, campaign_id=campaign_id,
                unit_id=unit_id, phone=phone, email=email,
                password_hash=hasher.hash(password if password is not None else secrets.token_urlsafe(32)))
    session.add(user)
    session.flush()
    record(session, clock, "user.created", actor_id=actor_id, actor_kind=actor_kind, entity="user", entity_id=user.id,
           data={"username": username, "role": role.value, "with_password": password is not None})
    return user


def user_problems(*, role: Role, unit_id: int | None, password: str | None,
                  user_inputs: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """The rules a user record must satisfy, shared by the CLI, imports and the API, each broken
    one as (field, sentence of :mod:`server.auth.messages`).

    ``user_inputs``: the account's username, name and e-mail, which its password must not lean on.
    """
    problems = []
    if role is Role.LIAISON and unit_id is None:
        problems.append(("unit", say("liaison_without_unit")))
    if role is not Role.LIAISON and unit_id is not None:
        problems.append(("unit", say("unit_not_for_role")))
    if password is not None:
        weakness = passwords.check_strength(password, user_inputs)
        if weakness:
            problems.append(("password", weakness))
    return problems
