"""tus 1.0 resumable photo uploads at /api/v1/uploads/ (core, creation, creation-with-upload,
checksum, termination, expiration).

A plain Flask blueprint: tus speaks headers and raw bytes, not JSON. Errors still come out as
problem+json. Only the device (and user) that created an upload may see or touch it; any
other caller gets 404, as for an upload that does not exist. A finished upload still answers
HEAD (and an empty PATCH at its end) for UPLOAD_FINISHED_KEEP_HOURS, so a phone that lost the
final 204 learns the photo arrived instead of sending it again.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from email.utils import format_datetime

from flask import Blueprint, Response, current_app, request, url_for

import media
from server import db
from server.attachments.uploads import (
    CHECKSUMS, BadMetadata, ChecksumMismatch, EmptyUpload, OffsetMismatch, TooLong, UnsupportedChecksum, Upload,
    UploadStore, finish, parse_metadata)
from server.auth.security import Principal, authenticate_request
from server.clock import app_clock
from server.errors import problem_response
from sync_protocol.problems import ProblemCode

blp = Blueprint("tus", __name__, url_prefix="/api/v1/uploads")

TUS_VERSION = "1.0.0"
OFFSET_OCTET_STREAM = "application/offset+octet-stream"
CHECKSUM_MISMATCH = "460 Checksum Mismatch"

log = logging.getLogger(__name__)


class _Refused(Exception):
    """A tus refusal, answered as problem+json."""

    def __init__(self, status: int, code: ProblemCode, title: str, detail: str, **headers: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.title, self.detail, self.headers = status, code, title, detail, headers


@blp.errorhandler(_Refused)
def _refused(exc: _Refused) -> Response:
    response = problem_response(exc.status, exc.code, exc.title, exc.detail, headers=exc.headers)
    if exc.status == 460:
        response.status = CHECKSUM_MISMATCH
    return response


class _Rejected(Exception):
    """A refusal whose problem response is already built."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


@blp.errorhandler(_Rejected)
def _rejected(exc: _Rejected) -> Response:
    return exc.response


@blp.before_request
def _require_tus_version() -> Response | None:
    if request.method == "OPTIONS" or request.headers.get("Tus-Resumable") == TUS_VERSION:
        return None
    return problem_response(412, ProblemCode.PROTOCOL_UNSUPPORTED, "Unsupported tus version",
                            f"Send 'Tus-Resumable: {TUS_VERSION}'.", headers={"Tus-Version": TUS_VERSION})


@blp.after_request
def _tus_headers(response: Response) -> Response:
    response.headers["Tus-Resumable"] = TUS_VERSION
    return response


def _store() -> UploadStore:
    return UploadStore(current_app.config["MEDIA_ROOT"])


def _http_date(moment: dt.datetime) -> str:
    return format_datetime(moment.astimezone(dt.timezone.utc), usegmt=True)


def _owned(upload_id: str, principal: Principal) -> Upload:
    store = _store()
    upload = store.get(upload_id)
    device = principal.token.device_id
    if (upload is None or upload.user_id != str(principal.user.id)
            or upload.device_id != (str(device) if device else None)):
        raise _Refused(404, ProblemCode.NOT_FOUND, "Not found", "No such upload.")
    if upload.expires <= app_clock().now():
        store.delete(upload.id)
        raise _Refused(404, ProblemCode.NOT_FOUND, "Not found", "The upload expired; start a new one.")
    return upload


def _int_header(name: str) -> int:
    value = request.headers.get(name, "")
    if not value.isdigit():
        raise _Refused(400, ProblemCode.MALFORMED_REQUEST, "Bad request", f"{name} must be a non-negative integer.")
    return int(value)


def _metadata_header(upload: Upload) -> str:
    """``Upload-Metadata`` as the client sent it (the creation extension: HEAD MUST return it)."""
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" if value else key
                    for key, value in upload.metadata.items())


def _append(upload: Upload, offset: int) -> Upload:
    """Stream the request body into the upload; complete it when the last byte is in."""
    store = _store()
    if upload.finished:
        # Nothing more can be written; an empty PATCH at the end is a phone asking again.
        if offset != upload.length:
            raise _Refused(409, ProblemCode.CONFLICT, "Wrong offset",
                           f"The upload is finished: its offset is {upload.length}.")
        if request.content_length:
            raise _Refused(413, ProblemCode.PAYLOAD_TOO_LARGE, "Past the upload's length",
                           "The upload is finished: no more bytes fit.")
        return upload
    try:
        upload = store.append(upload.id, request.stream, offset=offset, declared=request.content_length,
                              checksum=request.headers.get("Upload-Checksum"))
    except FileNotFoundError:
        raise _Refused(404, ProblemCode.NOT_FOUND, "Not found", "No such upload.") from None
    except OffsetMismatch as exc:
        raise _Refused(409, ProblemCode.CONFLICT, "Wrong offset", str(exc)) from None
    except TooLong as exc:
        raise _Refused(413, ProblemCode.PAYLOAD_TOO_LARGE, "Past the upload's length", str(exc)) from None
    except UnsupportedChecksum as exc:
        raise _Refused(400, ProblemCode.MALFORMED_REQUEST, "Unsupported checksum", str(exc)) from None
    except ChecksumMismatch as exc:
        raise _Refused(460, ProblemCode.VALIDATION_FAILED, "Checksum mismatch", str(exc)) from None
    if upload.complete:
        _complete(store, upload)
    return upload


def _complete(store: UploadStore, upload: Upload) -> None:
    config = current_app.config
    try:
        finish(db.session(), app_clock(), current_app.extensions["xuncha.media"], store, upload,
               limits=media.Limits(max_bytes=config["MEDIA_MAX_BYTES"], max_pixels=config["MEDIA_MAX_PIXELS"]),
               timezone=config["TIMEZONE"], keep=dt.timedelta(hours=config["UPLOAD_FINISHED_KEEP_HOURS"]))
    except ChecksumMismatch as exc:
        raise _Refused(460, ProblemCode.VALIDATION_FAILED, "Checksum mismatch",
                       f"{exc} The upload was deleted; upload the photo again.") from None
    except media.MediaError as exc:
        response = problem_response(422, ProblemCode.VALIDATION_FAILED, "Not an acceptable photo", exc.message,
                                    errors=[{"field": "photo", "message": exc.message, "code": exc.code}],
                                    media_code=exc.code)
        raise _Rejected(response) from None
    except Exception:
        # The bytes are all here and kept: the phone need send none of them again.
        log.exception("storing the photo of upload %s failed", upload.id)
        raise _Refused(503, ProblemCode.SERVICE_UNAVAILABLE, "The photo could not be stored yet",
                       f"Every byte arrived and is kept; send an empty PATCH at Upload-Offset {upload.length} "
                       "to try again.", **{"Retry-After": "5", "Upload-Offset": str(upload.offset)}) from None


@blp.route("/", methods=["OPTIONS"], strict_slashes=False)
def options() -> Response:
    return Response(status=204, headers={
        "Tus-Version": TUS_VERSION,
        "Tus-Extension": "creation,creation-with-upload,checksum,termination,expiration",
        "Tus-Max-Size": str(current_app.config["MEDIA_MAX_BYTES"]),
        "Tus-Checksum-Algorithm": ",".join(CHECKSUMS),
    })


@blp.route("/", methods=["POST"], strict_slashes=False)
def create() -> Response:
    """Creation (and creation-with-upload): Upload-Length and Upload-Metadata with ``sha256``."""
    principal = authenticate_request()
    length = _int_header("Upload-Length")
    if length > current_app.config["MEDIA_MAX_BYTES"]:
        raise _Refused(413, ProblemCode.PAYLOAD_TOO_LARGE, "Too large",
                       f"Upload-Length above Tus-Max-Size {current_app.config['MEDIA_MAX_BYTES']}.")
    try:
        metadata = parse_metadata(request.headers.get("Upload-Metadata", ""))
        clock = app_clock()
        upload = _store().create(
            length=length, metadata=metadata, device_id=principal.token.device_id, user_id=principal.user.id,
            now=clock.now(), lifetime=dt.timedelta(hours=current_app.config["UPLOAD_EXPIRY_HOURS"]))
    except BadMetadata as exc:
        raise _Refused(400, ProblemCode.MALFORMED_REQUEST, "Bad Upload-Metadata", str(exc)) from None
    except EmptyUpload as exc:
        # Before any file is made: both real tus clients report an empty file done after the POST.
        raise _Rejected(problem_response(
            422, ProblemCode.VALIDATION_FAILED, "An empty file is no photo", str(exc),
            errors=[{"field": "Upload-Length", "message": str(exc), "code": media.EmptyFile.code}],
            media_code=media.EmptyFile.code)) from None
    headers = {"Location": url_for("tus.upload", upload_id=upload.id, _external=True),
               "Upload-Expires": _http_date(upload.expires)}
    if request.mimetype == OFFSET_OCTET_STREAM:  # creation-with-upload
        upload = _append(upload, 0)
        headers["Upload-Offset"] = str(upload.offset)
    return Response(status=201, headers=headers)


@blp.route("/<upload_id>", methods=["HEAD"])
def upload(upload_id: str) -> Response:
    found = _owned(upload_id, authenticate_request())
    if found.complete and not found.finished:
        # Storing the photo failed after its last byte (a 503). A client resuming asks HEAD,
        # and tus-js-client takes "offset = length" as done without another PATCH: finish now,
        # or the photo would never be stored. Idempotent, as every completion is.
        _complete(_store(), found)
    return Response(status=200, headers={
        "Upload-Offset": str(found.offset), "Upload-Length": str(found.length),
        "Upload-Metadata": _metadata_header(found), "Upload-Expires": _http_date(found.expires),
        "Cache-Control": "no-store"})


@blp.route("/<upload_id>", methods=["PATCH"])
def patch(upload_id: str) -> Response:
    found = _owned(upload_id, authenticate_request())
    if request.mimetype != OFFSET_OCTET_STREAM:
        raise _Refused(415, ProblemCode.UNSUPPORTED_MEDIA_TYPE, "Unsupported media type",
                       f"PATCH bodies must be {OFFSET_OCTET_STREAM}.")
    updated = _append(found, _int_header("Upload-Offset"))
    return Response(status=204, headers={"Upload-Offset": str(updated.offset),
                                         "Upload-Expires": _http_date(updated.expires)})


@blp.route("/<upload_id>", methods=["DELETE"])
def terminate(upload_id: str) -> Response:
    found = _owned(upload_id, authenticate_request())
    _store().delete(found.id)
    return Response(status=204)
