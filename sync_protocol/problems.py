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
device_taken               409     the device id belongs to another user: make a new id (or have
                                   its owner release the phone, see docs/sync-protocol.md)
outbox_not_drained         409     a release names mutations the server has not acknowledged:
                                   push them first
not_found                  404     no such resource, or not visible to this user
method_not_allowed         405     the path exists but not with this method
conflict                   409     the request conflicts with the current state
payload_too_large          413     the body exceeds the configured limit
unsupported_media_type     415     the body is not of a type the endpoint takes
rate_limited               429     too many attempts; retry after ``Retry-After`` seconds
protocol_unsupported       426     the app speaks a protocol version the server no longer
                                   serves: upgrade the app (``supported`` lists the versions)
device_mismatch            403     the push names another device than the token's
sequence_invalid           422     mutation sequence numbers are not strictly increasing
batch_too_large            413     more mutations in one push than the server takes
cursor_invalid             400     the pull cursor was not issued by this server for this device
cursor_expired             410     the cursor is older than the tombstones kept: start over
                                   with an empty cursor and drop local copies of pulled data
sync_busy                  503     the push kept meeting other pushes of the same records and
                                   was not applied: send the same batch again after
                                   ``Retry-After`` seconds
--- per mutation (in a push result's ``problem``) ------------------------------------------
unknown_entity             422     the mutation names an entity that cannot be pushed
invalid_fields             422     the mutation's fields did not validate; see ``errors``
not_in_scope               403     the record belongs to a unit outside the user's scope
id_taken                   409     the id already belongs to another record or unit
record_missing             404     update, delete or command of a record the server lacks
illegal_transition         409     a workflow command that the record's state does not allow
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
    DEVICE_TAKEN = "device_taken"
    OUTBOX_NOT_DRAINED = "outbox_not_drained"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    RATE_LIMITED = "rate_limited"
    INTERNAL_ERROR = "internal_error"
    SERVICE_UNAVAILABLE = "service_unavailable"
    PROTOCOL_UNSUPPORTED = "protocol_unsupported"
    DEVICE_MISMATCH = "device_mismatch"
    SEQUENCE_INVALID = "sequence_invalid"
    BATCH_TOO_LARGE = "batch_too_large"
    CURSOR_INVALID = "cursor_invalid"
    CURSOR_EXPIRED = "cursor_expired"
    SYNC_BUSY = "sync_busy"
    UNKNOWN_ENTITY = "unknown_entity"
    INVALID_FIELDS = "invalid_fields"
    NOT_IN_SCOPE = "not_in_scope"
    ID_TAKEN = "id_taken"
    RECORD_MISSING = "record_missing"
    ILLEGAL_TRANSITION = "illegal_transition"

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
