"""What each role may do. The one table every view's authorization goes through."""

from __future__ import annotations

import enum

from server.auth.models import Role


class Permission(enum.Enum):
    READ_OWN_ACCOUNT = "account.read"
    READ_UNITS = "units.read"
    READ_ROUNDS = "rounds.read"
    READ_USERS = "users.read"
    #: Creating, importing, disabling and enabling accounts, resetting passwords and setting up
    #: phones; which accounts, :func:`server.auth.scope.manages_account` decides (admins any,
    #: supervisors their campaign's inspectors and liaisons).
    MANAGE_USERS = "users.manage"
    REVOKE_TOKENS = "tokens.revoke"
    READ_AUDIT = "audit.read"
    SYNC = "sync"
    REVIEW_SYNC = "sync.review"
    READ_ORDERS = "orders.read"
    #: Every role takes some steps; which step whom, the order state machine decides.
    ACT_ON_ORDERS = "orders.act"
    MANAGE_POLICY = "policy.manage"
    READ_PHOTO_FLAGS = "photos.flags"
    READ_NOTIFICATIONS = "notifications.read"
    MANAGE_DELIVERIES = "notifications.deliveries"
    READ_HOLIDAYS = "holidays.read"
    MANAGE_HOLIDAYS = "holidays.manage"
    #: Published circulars, for anyone who sees the round; drafts are checked apart (staff only).
    READ_REPORTS = "reports.read"
    MANAGE_REPORTS = "reports.manage"
    #: Creating campaigns; changing one is for its supervisors too (MANAGE_ASSESSMENTS).
    CREATE_CAMPAIGNS = "campaigns.create"
    #: Setting up and scoring a campaign's assessments: the campaign, its units and zones, standards,
    #: rounds, teams, assignments and results entered without phones.
    MANAGE_ASSESSMENTS = "assessments.manage"


_ALL = frozenset(Role)
_STAFF = frozenset({Role.ADMIN, Role.SUPERVISOR})
_ADMIN = frozenset({Role.ADMIN})

GRANTS: dict[Permission, frozenset[Role]] = {
    Permission.READ_OWN_ACCOUNT: _ALL,
    Permission.READ_UNITS: _ALL,
    Permission.READ_ROUNDS: _ALL,
    Permission.READ_USERS: _STAFF,
    Permission.MANAGE_USERS: _STAFF,
    Permission.REVOKE_TOKENS: _ADMIN,
    Permission.READ_AUDIT: _STAFF,
    Permission.SYNC: _ALL,
    Permission.REVIEW_SYNC: _STAFF,
    Permission.READ_ORDERS: _ALL,
    Permission.ACT_ON_ORDERS: _ALL,
    Permission.MANAGE_POLICY: _ADMIN,
    Permission.READ_PHOTO_FLAGS: _STAFF,
    Permission.READ_NOTIFICATIONS: _ALL,
    Permission.MANAGE_DELIVERIES: _ADMIN,
    Permission.READ_HOLIDAYS: _ALL,
    Permission.MANAGE_HOLIDAYS: _ADMIN,
    Permission.READ_REPORTS: _ALL,
    Permission.MANAGE_REPORTS: _STAFF,
    Permission.CREATE_CAMPAIGNS: _ADMIN,
    Permission.MANAGE_ASSESSMENTS: _STAFF,
}


def allowed(role: Role, permission: Permission) -> bool:
    return role in GRANTS[permission]
