"""Compressed bodies both ways: a phone on one bar of signal pays for every byte it moves.

Responses: JSON and HTML go out compressed to clients that ask for it with
``Accept-Encoding`` (zstd, br or gzip, as ``COMPRESS_ENCODINGS`` offers them), by
flask-compress. The benchmark's first sync shrinks elevenfold with gzip (docs/performance.md).

Requests: a JSON body may come with ``Content-Encoding: gzip`` (a push of a few hundred
findings is mostly repeated keys and place names). It is inflated when the view reads it,
so after authentication, and ``MAX_BODY_BYTES`` holds before and after inflating: a small
body that would inflate past the limit is refused as it grows, never inflated whole.
"""

from __future__ import annotations

import io
import zlib
from typing import IO

import flask
from flask import Flask
from flask_compress import Compress
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import get_input_stream

from server.errors import AppError
from sync_protocol.problems import ProblemCode

#: What a request body may be encoded with.
REQUEST_ENCODINGS = ("gzip",)
#: What a response may be encoded with (COMPRESS_ENCODINGS picks and orders them).
RESPONSE_ENCODINGS = ("zstd", "br", "gzip")
#: Levels, from a 680 KB pull page of 1000 findings: zstd 3 and brotli 1 take about 0.5 ms for a
#: seventeenth of the size; gzip 3 takes 2.4 ms for a fourteenth, where gzip 6 takes 4.4 ms to
#: save a tenth more.
LEVELS = {"COMPRESS_ZSTD_LEVEL": 3, "COMPRESS_BR_LEVEL": 1, "COMPRESS_LEVEL": 3}
#: Response media types worth compressing (photos, XLSX and DOCX are compressed already).
COMPRESSED_TYPES = ["application/json", "text/html"]
#: Compressed bytes read per step.
_STEP = 64 * 1024
_GZIP = 16 + zlib.MAX_WBITS
#: RFC 9110 §8.4.1.3: x-gzip is to be taken as gzip.
_ALIASES = {"x-gzip": "gzip"}


class BodyEncodingUnsupported(AppError):
    status = 415
    code = ProblemCode.UNSUPPORTED_MEDIA_TYPE
    title = "Unsupported request body encoding"

    def __init__(self, detail: str, accepted: tuple[str, ...] = REQUEST_ENCODINGS) -> None:
        # RFC 7694: a 415 for a content coding names the codings the resource accepts.
        super().__init__(detail, headers={"Accept-Encoding": ", ".join(accepted)})


class BodyEncodingInvalid(AppError):
    status = 400
    code = ProblemCode.MALFORMED_REQUEST
    title = "The request body is not valid gzip"


def inflate(stream: IO[bytes], limit: int | None) -> bytes:
    """A gzip body (one member or several, RFC 1952) inflated, refused as soon as it grows past
    ``limit`` bytes; a body cut short or not gzip at all is refused too."""
    out = bytearray()
    decoder = zlib.decompressobj(wbits=_GZIP)
    data = stream.read(_STEP)
    if not data:
        raise BodyEncodingInvalid("The body is empty but says it is gzip-encoded.")
    try:
        while True:
            if decoder.eof:
                data = decoder.unused_data or stream.read(_STEP)
                if not data:
                    return bytes(out)
                decoder = zlib.decompressobj(wbits=_GZIP)
            elif not data:
                data = stream.read(_STEP)
                if not data:
                    raise BodyEncodingInvalid("The gzip body is cut short.")
            # Never more than one byte past the limit, whatever the body would inflate to.
            room = 0 if limit is None else limit + 1 - len(out)
            out += decoder.decompress(data, room)
            if limit is not None and len(out) > limit:
                raise RequestEntityTooLarge(f"The body inflates to more than {limit} bytes.")
            data = decoder.unconsumed_tail
    except zlib.error as exc:
        raise BodyEncodingInvalid(f"Inflating the body failed: {exc}.") from None


class _AtMost(io.RawIOBase):
    """A body of unknown length (chunked) read up to ``limit`` bytes, refused with 413 past it.

    werkzeug's own bound stops quietly at the limit, so a longer chunked body would be read cut
    short and answered 400 as broken JSON; this one reads one byte beyond to know."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        super().__init__()
        self._stream, self._limit, self._left = stream, limit, limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        data = self._stream.read(min(len(buffer), self._left + 1))
        if len(data) > self._left:
            raise RequestEntityTooLarge(f"The body is longer than {self._limit} bytes.")
        self._left -= len(data)
        buffer[:len(data)] = data
        return len(data)


class Request(flask.Request):
    """Flask's request, whose body stream inflates a gzip-encoded JSON body."""

    @cached_property
    def stream(self) -> IO[bytes]:  # type: ignore[override]
        limit = self.max_content_length
        if self.content_length is None and limit is not None and self.environ.get("wsgi.input_terminated"):
            raw: IO[bytes] = _AtMost(get_input_stream(self.environ, max_content_length=None), limit)
        else:
            raw = get_input_stream(self.environ, max_content_length=limit)
        encoding = (self.headers.get("Content-Encoding") or "identity").strip().lower()
        if encoding == "identity":
            return raw
        encoding = _ALIASES.get(encoding, encoding)
        if encoding not in REQUEST_ENCODINGS:
            raise BodyEncodingUnsupported(f"Bodies encoded with {encoding!r} are not accepted; send gzip or none.")
        if not self.is_json:
            raise BodyEncodingUnsupported("Only JSON bodies may be sent compressed.", accepted=("identity",))
        return io.BytesIO(inflate(raw, self.max_content_length))


def init_app(app: Flask) -> None:
    """Compressed responses by the settings, and requests that may arrive compressed."""
    app.request_class = Request
    encodings = app.config["COMPRESS_ENCODINGS"]
    if not encodings:
        return
    app.config.update({
        **LEVELS,
        "COMPRESS_ALGORITHM": list(encodings),
        "COMPRESS_MIN_SIZE": app.config["COMPRESS_MIN_BYTES"],
        "COMPRESS_MIMETYPES": COMPRESSED_TYPES,
        # Nothing here streams JSON; photos answer their own conditional and range requests.
        "COMPRESS_STREAMS": False,
        "COMPRESS_EVALUATE_CONDITIONAL_REQUEST": False,
    })
    Compress(app)
