"""Bearer-token authentication and the permission check every protected view declares."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from flask import g, request

from server import db
from server.auth import services
from server.auth.models import AuthToken, User
from server.auth.permissions import Permission, allowed
from server.clock import app_clock
from server.errors import Forbidden, Unauthenticated

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Principal:
    user: User
    token: AuthToken


def _bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Send the token from POST /api/v1/auth/login as 'Authorization: Bearer <token>'.")
    return token.strip()


def authenticate_request() -> Principal:
    if "principal" not in g:
        session = db.session()
        clock = app_clock()
        token = services.resolve_token(session, clock, _bearer_token())
        user = token.user
        # End the reading transaction before any write: on SQLite a transaction that read first
        # cannot start writing once another connection has committed (a stale snapshot).
        session.commit()
        if services.needs_touch(token, clock):
            services.touch(session, clock, token)
            session.commit()
        g.principal = Principal(user=user, token=token)
    return g.principal


def current_user() -> User:
    return authenticate_request().user


def requires(permission: Permission) -> Callable[[F], F]:
    """Authenticate the request, then refuse it (403) unless the user's role grants ``permission``."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = authenticate_request()
            if not allowed(principal.user.role, permission):
                raise Forbidden(f"The role {principal.user.role.value!r} may not do this ({permission.value}).")
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
