"""Exports through the API and the console: a list answered as the file its import reads back."""

from __future__ import annotations

import io
from typing import Sequence

from flask import Response, send_file

from server.imports.writers import MIMETYPES, table_bytes


def table_download(rows: Sequence[Sequence[object]], fmt: str, *, title: str, name: str) -> Response:
    """``rows`` (header first) as the attachment ``<name>.<fmt>``, its sheet titled ``title``."""
    return send_file(io.BytesIO(table_bytes(rows, fmt, title=title)), mimetype=MIMETYPES[fmt], as_attachment=True,
                     download_name=f"{name}.{fmt}")
