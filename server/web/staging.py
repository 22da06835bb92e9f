"""Spreadsheets a clerk has had checked, kept until they confirm the import.

Why the server keeps the checked file rather than have it sent again: a browser cannot fill a
file input by itself, so sending it again means choosing it again (and maybe another file than
the one checked); echoing the bytes back inside the page would carry every file three times and
put megabytes into a phone's page. So the bytes are kept under a random folder name, and the
confirm form names them by a token:

- signed with SECRET_KEY and carrying what the file was checked for (who, which import, into
  which campaign or round, with which details), its name as the clerk sent it and its SHA-256:
  a confirm imports exactly the bytes checked, for the person who checked them, where they
  were checked — another person's token, or one for another campaign, opens nothing;
- good for :data:`KEPT_MINUTES` by the app's clock: the folder's name starts with the time it
  was made, and each new check sweeps away the folders older than that;
- no larger than a request may be (``MAX_BODY_BYTES``; the upload beyond it is refused 413).

The folders live under ``<MEDIA_ROOT>/uploads/imports/``, beside the unfinished photo uploads:
the folder that every web server must share already (docs/operations.md, "Media storage"), so
the confirm may reach another worker or server than the check did, and that backups leave out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.datastructures import FileStorage

from server.clock import app_clock

#: How long a checked file waits for its confirm: a clerk reads the check, not a novel.
KEPT_MINUTES = 30
FOLDER = ("uploads", "imports")
_STAMP = "%Y%m%dT%H%M%S"
_NAME = re.compile(r"^(\d{8}T\d{6})-[0-9a-f]{32}(-taken-[0-9a-f]{8})?$")
#: Characters of a stored file name before its suffix (a name runs to 255 bytes; these are up to 3 each).
MAX_STEM = 80


class Gone(Exception):
    """The token names no file this caller may import now: expired, swept, forged or another's."""


@dataclass(frozen=True)
class Staged:
    token: str
    #: The file under the name the clerk gave it (the readers go by its suffix).
    path: Path
    #: What the file was checked for: who, which import, into what.
    purpose: dict[str, Any]
    #: What else the check's form said (a standard's code and name ...).
    details: dict[str, Any]


def stage(upload: FileStorage, *, purpose: dict[str, Any], details: dict[str, Any] | None = None) -> Staged:
    """Keep an uploaded file for a later import with the same ``purpose``."""
    now = app_clock().now()
    _sweep(now)
    folder = f"{now.astimezone(dt.timezone.utc).strftime(_STAMP)}-{secrets.token_hex(16)}"
    name = _file_name(upload.filename or "upload")
    path = _root() / folder / name
    path.parent.mkdir(parents=True)
    upload.save(path)
    payload = {"folder": folder, "name": name, "sha256": _sha256(path), "purpose": purpose,
               "details": details or {}}
    return Staged(_serializer().dumps(payload), path, purpose, details or {})


def take(token: str, *, purpose: dict[str, Any]) -> Staged:
    """The file a token names, if it was checked for ``purpose`` and is still kept, claimed for this
    request alone (:func:`discard` it when done; an abandoned claim is swept with the rest); else
    :class:`Gone`."""
    try:
        payload = _serializer().loads(token)
    except BadSignature:
        raise Gone("not a token of this server") from None
    match = _NAME.match(payload["folder"])
    if payload["purpose"] != purpose or match is None:
        raise Gone("checked for another import")
    if _made(match.group(1)) < app_clock().now() - dt.timedelta(minutes=KEPT_MINUTES):
        raise Gone("expired")
    # Claimed by a rename, which is atomic: of two confirms of one file (a double click, two
    # workers), one imports it and the other finds it gone.
    claimed = _root() / f"{payload['folder']}-taken-{secrets.token_hex(4)}"
    try:
        os.rename(_root() / payload["folder"], claimed)
    except FileNotFoundError:
        raise Gone("imported or swept already") from None
    path = claimed / Path(payload["name"]).name
    try:
        if _sha256(path) != payload["sha256"]:
            raise Gone("changed on disk")
    except (FileNotFoundError, Gone):
        shutil.rmtree(claimed, ignore_errors=True)
        raise Gone("changed on disk") from None
    return Staged(token, path, purpose, payload["details"])


def discard(staged: Staged) -> None:
    shutil.rmtree(staged.path.parent, ignore_errors=True)


def _sweep(now: dt.datetime) -> None:
    oldest = now - dt.timedelta(minutes=KEPT_MINUTES)
    try:
        names = os.listdir(_root())
    except FileNotFoundError:
        return
    for name in names:
        match = _NAME.match(name)
        if match and _made(match.group(1)) < oldest:
            shutil.rmtree(_root() / name, ignore_errors=True)


def _file_name(sent: str) -> str:
    """The clerk's file name, as the report and the audit name the file, made safe to store: no
    folders, no control characters, and short enough for any file system."""
    path = Path("".join(ch for ch in sent if ch.isprintable()).replace("\\", "/"))
    stem = path.stem[:MAX_STEM] or "upload"
    return f"{stem}{path.suffix.lower()}"


def _made(stamp: str) -> dt.datetime:
    return dt.datetime.strptime(stamp, _STAMP).replace(tzinfo=dt.timezone.utc)


def _root() -> Path:
    return Path(current_app.config["MEDIA_ROOT"]).joinpath(*FOLDER)


def _sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="xuncha.staged-import")
