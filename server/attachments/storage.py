"""The photo storage backend the settings name (MEDIA_STORAGE)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

import media

#: A temporary file untouched this long is debris: a put of the largest photo takes seconds.
TEMPORARY_GRACE = dt.timedelta(hours=1)


def build_storage(settings: Mapping[str, Any]) -> media.Storage:
    """A filesystem backend under MEDIA_ROOT, or an S3 backend on MEDIA_S3_BUCKET."""
    if settings["MEDIA_STORAGE"] == "s3":
        return media.S3Storage(settings["MEDIA_S3_BUCKET"], prefix=settings["MEDIA_S3_PREFIX"],
                               endpoint_url=settings["MEDIA_S3_ENDPOINT_URL"], region=settings["MEDIA_S3_REGION"])
    return media.FileSystemStorage(settings["MEDIA_ROOT"])


def sweep_temporary(storage: media.Storage, now: dt.datetime) -> int:
    """Delete what puts cut off by a crash left in the filesystem backend; S3 leaves nothing."""
    if not isinstance(storage, media.FileSystemStorage):
        return 0
    return storage.sweep_temporary(older_than=(now - TEMPORARY_GRACE).timestamp())
