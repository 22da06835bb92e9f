"""Reading photos: originals (with Range), previews and thumbnails, each only within scope."""

from __future__ import annotations

from flask import Response, current_app, request, send_file
from flask_smorest import Blueprint

from media import PREVIEW_SUFFIX, THUMBNAIL_SUFFIX, key_for
from server import db
from server.attachments.services import visible_photo
from server.auth.permissions import Permission
from server.auth.security import authenticate_request, requires
from server.errors import NotFound

blp = Blueprint("photos", __name__, url_prefix="/api/v1", description="Photo evidence (原图, 预览, 缩略图)")

_VARIANTS = {"": None, "preview": PREVIEW_SUFFIX, "thumb": THUMBNAIL_SUFFIX}


@blp.route("/photos/<string:sha256>", methods=["GET", "HEAD"], defaults={"variant": ""})
@blp.route("/photos/<string:sha256>/<any(preview, thumb):variant>", methods=["GET", "HEAD"])
@requires(Permission.READ_UNITS)
def photo(sha256: str, variant: str) -> Response:
    """The photo's bytes; HEAD tells an app the server already has it (no need to upload again).

    404 for a photo the caller may not see, exactly as for one that does not exist. The ETag
    is the content hash, so a cached copy is never stale; originals answer Range requests.
    """
    principal = authenticate_request()
    found = visible_photo(db.session(), principal.user, sha256, principal.token.device_id)
    if found is None:
        raise NotFound("No such photo.")
    storage = current_app.extensions["xuncha.media"]
    key = key_for(sha256, _VARIANTS[variant])
    response = send_file(storage.location(key), mimetype=found.content_type if not variant else "image/jpeg",
                         etag=key, conditional=True, max_age=365 * 24 * 3600)
    response.cache_control.private = True
    response.cache_control.immutable = True
    if request.method == "HEAD":
        response.headers["X-Photo-Width"] = str(found.width)
        response.headers["X-Photo-Height"] = str(found.height)
    return response
