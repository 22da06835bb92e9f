"""Bearer-token authentication and the permission check every protected view declares."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

import sqlalchemy as sa
from flask import g, request

from server import db
from server.auth import scope, services
from server.auth.models import AuthToken, User
from server.auth.permissions import Permission, allowed
from server.clock import app_clock
from server.errors import Forbidden, Unauthenticated
from server.web.session import cookie_token

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

#: The caller's user and token records, for the views that use them.
_RECORDS = (sa.select(User, AuthToken).join(AuthToken, AuthToken.user_id == User.id)
            .where(AuthToken.id == sa.bindparam("token_id")))


@dataclass(frozen=True)
class Principal:
    """The caller of a request: the token's plain values, and its user and token records."""

    caller: services.Caller

    @functools.cached_property
    def user(self) -> User:
        return _found(db.session().get(User, self.caller.user_id))

    @functools.cached_property
    def token(self) -> AuthToken:
        return _found(db.session().get(AuthToken, self.caller.token_id))

    def read_records(self) -> None:
        """Read the user and token records now, in one statement, rather than when a view first
        uses them."""
        found = _found(db.session().execute(_RECORDS, {"token_id": self.caller.token_id}).one_or_none())
        # Where the cached properties keep what they read (the dataclass is frozen).
        vars(self).update(user=found.User, token=found.AuthToken)


def _found(record: T | None) -> T:
    if record is None:  # deleted since the token was checked, in this very request
        raise Unauthenticated("Unknown token; log in again.")
    return record


def _bearer_token() -> str:
    """The request's token: its Authorization header, or else the web console's session cookie
    (:mod:`server.web.session`, which also checks the CSRF token of such requests)."""
    header = request.headers.get("Authorization", "")
    if not header:
        token = cookie_token()
        if token:
            return token
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Send the token from POST /api/v1/auth/login as 'Authorization: Bearer <token>'.")
    return token.strip()


def authenticate_request(*, keep_transaction: bool = False) -> Principal:
    """The request's caller, checked against the database once per request.

    The user and token records are read and the reading transaction ended before the view
    runs: on SQLite a transaction that read first cannot start writing once another
    connection has committed (a stale snapshot), and some views write first. A view that
    ends its reads itself before it writes, or never writes, passes ``keep_transaction``:
    its records are read only if it asks for them, and a commit and a new transaction are
    saved.
    """
    if "principal" not in g:
        session = db.session()
        clock = app_clock()
        principal = Principal(services.resolve_token(session, clock, _bearer_token()))
        note_use = services.needs_touch(principal.caller, clock)
        if not keep_transaction:
            principal.read_records()
        if note_use or not keep_transaction:
            session.commit()
        if note_use:
            services.touch(session, clock, principal.caller)
            session.commit()
        g.principal = principal
    return g.principal


def current_user() -> User:
    return authenticate_request().user


def current_reach() -> scope.Reach:
    """What the request's caller reaches (:mod:`server.auth.scope`), read once per request."""
    if "reach" not in g:
        g.reach = scope.reach_of(db.session(), authenticate_request().caller)
    return g.reach


def requires(permission: Permission, *, keep_transaction: bool = False) -> Callable[[F], F]:
    """Authenticate the request, then refuse it (403) unless the user's role grants ``permission``.

    ``keep_transaction``: see :func:`authenticate_request`.
    """

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            role = authenticate_request(keep_transaction=keep_transaction).caller.role
            if not allowed(role, permission):
                raise Forbidden(f"The role {role.value!r} may not do this ({permission.value}).")
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
