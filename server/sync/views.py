from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
from flask import Response, current_app

from server import db
from server.api import Blueprint
from server.auth.permissions import Permission
from server.auth.security import authenticate_request, current_user, requires
from server.clock import app_clock
from server.gcpause import gc_paused
from server.sync import pull as pull_service
from server.sync import push as push_service
from server.sync import review
from server.sync.schemas import (ConflictSchema, DeviceStateSchema, DismissSchema, QuarantinedSchema,
                                 ReplayResultSchema, ReviewArgsSchema)
from sync_protocol.messages import PullArgsSchema, PullResponseSchema, PushRequestSchema, PushResponseSchema

blp = Blueprint("sync", __name__, url_prefix="/api/v1/sync",
                description="Offline sync: push mutations, pull changes (see docs/sync-protocol.md)")


@blp.post("/push")
# From parsing the batch to writing the answer, its records all stay alive: nothing for the
# collector to find meanwhile.
@gc_paused()
@requires(Permission.SYNC)
@blp.arguments(PushRequestSchema)
@blp.response(200, PushResponseSchema)
def push(body: dict[str, Any]) -> dict[str, Any]:
    """Apply a batch of mutations from this device, each exactly once; answers each one."""
    principal = authenticate_request()
    session = db.session()
    config = current_app.config
    try:
        # The whole push again, from a clean session, when it met another transaction (a
        # deadlock, a lock timeout, a busy SQLite): the device never sees those.
        return db.run_retrying(session, lambda: push_service.push(
            session, app_clock(), principal.user, principal.token.device_id, body,
            max_batch=config["SYNC_MAX_BATCH"], lock_timeout_ms=config["SYNC_LOCK_TIMEOUT_MS"]),
            db.Retry(attempts=config["SYNC_RETRY_ATTEMPTS"]))
    except db.RetriesExhausted as exc:
        raise push_service.Busy(f"Nothing of this push was applied ({exc}); send the same batch again.") from None


class _PullArgs(PullArgsSchema):
    @ma.validates("limit")
    def _within_max(self, value: int | None, **_: Any) -> None:
        ceiling = current_app.config["SYNC_PULL_LIMIT_MAX"]
        if value is not None and value > ceiling:
            raise ma.ValidationError(f"must be at most {ceiling}")


@blp.get("/pull")
# A pull only reads, but for the snapshot of a new scope and the note that the device caught
# up, each written in a transaction of its own.
@requires(Permission.SYNC, keep_transaction=True)
@blp.arguments(_PullArgs(), location="query")  # one instance: not built again per page
@blp.response(200, PullResponseSchema)
def pull(args: dict[str, Any]) -> Response:
    """The next page of changes visible to this device since ``cursor`` (none: from the start)."""
    session = db.session()
    body = pull_service.pull(session, app_clock(), authenticate_request().caller,
                             protocol=args["protocol"], cursor=args["cursor"],
                             limit=args["limit"] or current_app.config["SYNC_PULL_LIMIT_DEFAULT"],
                             secret=current_app.config["SECRET_KEY"])
    session.commit()
    return Response(body, mimetype="application/json")


@blp.get("/quarantine")
@requires(Permission.REVIEW_SYNC)
@blp.arguments(ReviewArgsSchema, location="query")
@blp.response(200, QuarantinedSchema(many=True))
def list_quarantine(args: dict[str, Any]) -> list[Any]:
    """Mutations that could not apply, oldest first."""
    return review.quarantined(db.session(), current_user(), args["status"], args["limit"])


@blp.post("/quarantine/<uuid:item_id>/replay")
@requires(Permission.REVIEW_SYNC)
@blp.response(200, ReplayResultSchema)
def replay(item_id: uuid.UUID) -> dict[str, Any]:
    result = review.replay(db.session(), app_clock(), current_user(), item_id)
    db.session().commit()
    return result


@blp.post("/quarantine/<uuid:item_id>/dismiss")
@requires(Permission.REVIEW_SYNC)
@blp.arguments(DismissSchema)
@blp.response(200, QuarantinedSchema)
def dismiss(body: dict[str, Any], item_id: uuid.UUID) -> Any:
    """Close an entry without applying it, with the reason (kept, and in the audit trail)."""
    item = review.dismiss(db.session(), app_clock(), current_user(), item_id, body["reason"])
    db.session().commit()
    return item


@blp.get("/conflicts")
@requires(Permission.REVIEW_SYNC)
@blp.arguments(ReviewArgsSchema(only=["limit"]), location="query")
@blp.response(200, ConflictSchema(many=True))
def list_conflicts(args: dict[str, Any]) -> list[Any]:
    """Edits that met on the server, of the campaign's devices: newest first, those needing a person first."""
    return review.conflicts(db.session(), current_user(), args["limit"])


@blp.get("/devices")
@requires(Permission.REVIEW_SYNC)
@blp.arguments(ReviewArgsSchema(only=["limit"]), location="query")
@blp.response(200, DeviceStateSchema(many=True))
def list_devices(args: dict[str, Any]) -> list[Any]:
    """The campaign's devices: whose, the name and platform sent at login, the last push and
    pull, clock offset and the telemetry sent."""
    return review.devices(db.session(), current_user(), args["limit"])
