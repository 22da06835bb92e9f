"""The error vocabulary of the API (RFC 9457 problem details).

Clients branch on ``code`` (or the equivalent ``type`` URI), never on ``title`` or
``detail``, which are for people and may be reworded. A code, once published, keeps
its meaning for good.

=========================  ======  =====================================================
code                       status  meaning
=========================  ======  =====================================================
validation_failed          422     the body or query did not validate; see ``errors``
malformed_request          400     the body is not JSON or not the expected shape
unauthenticated            401     no token, or an expired or revoked one: log in again
invalid_credentials        401     wrong username or password
forbidden                  403     the role may not do this
device_revoked             403     this device was revoked by an administrator
not_found                  404     no such resource, or not visible to this user
method_not_allowed         405     the path exists but not with this method
conflict                   409     the request conflicts with the current state
payload_too_large          413     the body exceeds the configured limit
unsupported_media_type     415     the body is not of a type the endpoint takes
rate_limited               429     too many attempts; retry after ``Retry-After`` seconds
internal_error             500     a bug on the server; the request changed nothing
service_unavailable        503     the database is unreachable; retry later
=========================  ======  =====================================================
"""

from __future__ import annotations

import enum

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:xuncha:problem:"


class ProblemCode(str, enum.Enum):
    VALIDATION_FAILED = "validation_failed"
    MALFORMED_REQUEST = "malformed_request"
    UNAUTHENTICATED = "unauthenticated"
    INVALID_CREDENTIALS = "invalid_credentials"
    FORBIDDEN = "forbidden"
    DEVICE_REVOKED = "device_revoked"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    RATE_LIMITED = "rate_limited"
    INTERNAL_ERROR = "internal_error"
    SERVICE_UNAVAILABLE = "service_unavailable"

    @property
    def type_uri(self) -> str:
        return TYPE_PREFIX + self.value

    @classmethod
    def from_type_uri(cls, uri: str) -> ProblemCode | None:
        if not uri.startswith(TYPE_PREFIX):
            return None
        try:
            return cls(uri[len(TYPE_PREFIX):])
        except ValueError:
            return None
