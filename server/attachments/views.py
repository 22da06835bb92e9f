"""Reading photos: originals (with Range), previews and thumbnails, each only within scope."""

from __future__ import annotations

import io
from typing import Any

from flask import Response, current_app, request, send_file
from werkzeug.exceptions import HTTPException

from media import PREVIEW_SUFFIX, THUMBNAIL_SUFFIX, key_for
from media import NotFound as MediaNotFound
from server import db
from server.api import Blueprint, file_response
from server.attachments.flags import flags_query
from server.attachments.models import PhotoFlag
from server.attachments import services
from server.attachments.schemas import PhotoFlagArgsSchema, PhotoFlagSchema, PhotoMetadataSchema
from server.attachments.services import PhotoMetadata, visible_photo
from server.auth.permissions import Permission
from server.auth.security import authenticate_request, current_reach, requires
from server.errors import NotFound
from server.pagination import page_schema, paginate

blp = Blueprint("photos", __name__, url_prefix="/api/v1", description="Photo evidence (原图, 预览, 缩略图)")

_VARIANTS = {"": None, "preview": PREVIEW_SUFFIX, "thumb": THUMBNAIL_SUFFIX}
#: A photo's bytes never change (its name is their hash), but who may see them does: any cache
#: may keep them as long as it likes, a shared one never (the answer depends on the token).
CACHE_CONTROL = f"private, max-age={365 * 24 * 3600}, immutable"


@blp.route("/photos/<string:sha256>", methods=["GET", "HEAD"], defaults={"variant": ""})
@blp.route("/photos/<string:sha256>/<any(preview, thumb):variant>", methods=["GET", "HEAD"])
@requires(Permission.READ_UNITS)
@blp.doc(**file_response("image/*", "The photo (the original as taken, or a JPEG preview or thumbnail)"))
def photo(sha256: str, variant: str) -> Response:
    """The photo's bytes; HEAD tells an app the server already has it (no need to upload again).

    404 for a photo the caller may not see, exactly as for one that does not exist. The ETag
    is the content hash, so a cached copy is never stale; originals answer Range requests.
    """
    principal = authenticate_request()
    found = visible_photo(db.session(), current_reach(), sha256, principal.caller.device_id)
    if found is None:
        raise NotFound("No such photo.")
    storage = current_app.extensions["xuncha.media"]
    key = key_for(sha256, _VARIANTS[variant])
    try:
        size = found.size_bytes if not variant else storage.size(key)
        # A HEAD (a phone asking whether to upload) needs no bytes: on S3 that saves a GET.
        body = storage.open(key) if request.method != "HEAD" else io.BytesIO()
    except MediaNotFound:
        raise NotFound("No such photo.") from None
    # From a file object rather than a path, so an S3 body streams the same way; the size is
    # given here because send_file cannot know it, and Range needs it.
    response = send_file(body, mimetype=found.content_type if not variant else "image/jpeg", etag=key,
                         conditional=False)
    response.content_length = size
    try:
        response = response.make_conditional(request.environ, accept_ranges=True, complete_length=size)
    except HTTPException:
        response.close()  # 416: the open body must not leak
        raise
    response.headers["Cache-Control"] = CACHE_CONTROL
    if request.method == "HEAD":
        response.headers["X-Photo-Width"] = str(found.width)
        response.headers["X-Photo-Height"] = str(found.height)
    return response


@blp.get("/photos/<string:sha256>/metadata")
@requires(Permission.READ_UNITS)
@blp.response(200, PhotoMetadataSchema)
def photo_metadata(sha256: str) -> PhotoMetadata:
    """When, where and with what the photo was taken (EXIF), its size, format and pixels, and
    for supervisors its flags; within the same scope as the photo itself (404 otherwise)."""
    principal = authenticate_request()
    return services.photo_metadata(db.session(), current_reach(), sha256, principal.caller.device_id)


@blp.get("/photo-flags")
@requires(Permission.READ_PHOTO_FLAGS)
@blp.arguments(PhotoFlagArgsSchema, location="query")
@blp.response(200, page_schema(PhotoFlagSchema))
def photo_flags(args: dict[str, Any]) -> dict[str, Any]:
    """Photos a supervisor should look at (looks reused, taken before the order, far from the
    finding), newest first, within the caller's scope. Flags never refuse a photo."""
    stmt = flags_query(current_reach(), finding_id=args["finding_id"], order_id=args["order_id"],
                       unit_id=args["unit_id"])
    return paginate(db.session(), stmt, PhotoFlag.id, args, newest_first=True)
