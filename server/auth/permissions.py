"""What each role may do. The one table every view's authorization goes through."""

from __future__ import annotations

import enum

from server.auth.models import Role


class Permission(enum.Enum):
    READ_OWN_ACCOUNT = "account.read"
    READ_UNITS = "units.read"
    READ_ROUNDS = "rounds.read"
    READ_USERS = "users.read"
    MANAGE_USERS = "users.manage"
    REVOKE_TOKENS = "tokens.revoke"
    READ_AUDIT = "audit.read"
    SYNC = "sync"
    REVIEW_SYNC = "sync.review"


_ALL = frozenset(Role)
_STAFF = frozenset({Role.ADMIN, Role.SUPERVISOR})
_ADMIN = frozenset({Role.ADMIN})

GRANTS: dict[Permission, frozenset[Role]] = {
    Permission.READ_OWN_ACCOUNT: _ALL,
    Permission.READ_UNITS: _ALL,
    Permission.READ_ROUNDS: _ALL,
    Permission.READ_USERS: _STAFF,
    Permission.MANAGE_USERS: _ADMIN,
    Permission.REVOKE_TOKENS: _ADMIN,
    Permission.READ_AUDIT: _STAFF,
    Permission.SYNC: _ALL,
    Permission.REVIEW_SYNC: _STAFF,
}


def allowed(role: Role, permission: Permission) -> bool:
    return role in GRANTS[permission]
