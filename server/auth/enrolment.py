"""Setting up a phone with a one-time code instead of a typed password.

An admin, or a supervisor of the user's campaign (:func:`server.auth.scope.manages_account`),
issues a short-lived code for an inspector or liaison; the console and ``xuncha enrol`` show it
as a QR code holding ``xuncha://enrol?server=<url>&code=<code>``. The app scans it and exchanges
the code, once, for a login token bound to the phone. Issuing a new code voids the user's earlier
unused ones. Only the code's SHA-256 is stored; every step is audited.
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.audit.models import ActorKind
from server.audit.services import record
from server.auth.models import FIELD_ROLES, EnrolmentCode, User
from server.auth.services import DeviceInfo, IssuedToken, hash_token, issue_token, register_device
from server.clock import Clock
from server.errors import Forbidden, InvalidCredentials

CODE_PREFIX = "xe_"


@dataclass(frozen=True)
class IssuedCode:
    code: str
    record: EnrolmentCode

    def uri(self, server: str) -> str:
        return "xuncha://enrol?" + urlencode({"server": server.rstrip("/"), "code": self.code})


def issue(session: Session, clock: Clock, user_id: int, *, actor: User | None, ttl: dt.timedelta) -> IssuedCode:
    """A new code for the user (``actor`` None: the command line). Does not commit."""
    from server.auth.accounts import managed_account

    user = managed_account(session, actor, "user.enrol", user_id)
    if user.role not in FIELD_ROLES:
        raise Forbidden(f"{user.username} is a {user.role.value}: only inspectors' and liaisons' phones are set up "
                        "with a code; staff log in with their password.")
    if not user.active:
        raise Forbidden(f"{user.username} is disabled; enable the account first.")
    now = clock.now()
    voided = session.execute(sa.delete(EnrolmentCode).where(EnrolmentCode.user_id == user.id,
                                                            EnrolmentCode.used_at.is_(None))).rowcount
    code = CODE_PREFIX + secrets.token_urlsafe(24)
    row = EnrolmentCode(code_hash=hash_token(code), user_id=user.id, created_at=now,
                        created_by=actor.id if actor else None, expires_at=now + ttl)
    session.add(row)
    session.flush()
    record(session, clock, "auth.enrolment_issued", actor_id=actor.id if actor else None,
           actor_kind=ActorKind.USER if actor else ActorKind.SYSTEM, entity="user", entity_id=user.id,
           data={"expires_at": row.expires_at.isoformat(), "voided": voided})
    return IssuedCode(code, row)


def exchange(session: Session, clock: Clock, code: str, device: DeviceInfo, *, ttl: dt.timedelta) -> IssuedToken:
    """The login token a code is worth, once. Any code that is unknown, used, lapsed or whose user
    was disabled is the same 401, so a guess learns nothing. Does not commit."""
    now = clock.now()
    row = session.scalar(sa.select(EnrolmentCode).where(EnrolmentCode.code_hash == hash_token(code.strip()))
                         .with_for_update())
    user = session.get(User, row.user_id) if row is not None else None
    if row is None or user is None or row.used_at is not None or row.expires_at <= now or not user.active:
        raise InvalidCredentials("This set-up code is not valid: it was used, it lapsed, or it never existed. "
                                 "Ask the office for a new one.")
    registered = register_device(session, clock, user, device)
    session.flush()
    # Claimed in one statement, so two phones racing with one code cannot both get a token.
    claimed = session.execute(sa.update(EnrolmentCode).where(EnrolmentCode.id == row.id,
                                                             EnrolmentCode.used_at.is_(None))
                              .values(used_at=now, device_id=registered.id)).rowcount
    if claimed != 1:
        raise InvalidCredentials("This set-up code was just used.")
    issued = issue_token(session, clock, user, registered, ttl)
    record(session, clock, "auth.enrolled", actor_id=user.id, device_id=registered.id, entity="user",
           entity_id=user.id, data={"enrolment_code_id": row.id})
    return issued


def qr_svg(uri: str) -> str:
    """The URI as a QR code in SVG, for a page to carry inline: a path and presentation
    attributes only (no style, no script), so a strict Content-Security-Policy shows it."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, border=4)
    return image.to_string(encoding="unicode")  # type: ignore[no-any-return]


def qr_png(uri: str) -> bytes:
    """The URI as a QR code PNG, large enough to scan from a screen or a printout."""
    import qrcode

    image = qrcode.make(uri, box_size=8, border=4)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
