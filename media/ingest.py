"""One call from uploaded bytes to everything the server records about a photo."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os

from .derivatives import Derivative, make_derivatives
from .errors import EmptyFile, TooLarge
from .exif import ExifInfo, read_exif
from .formats import MIME_TYPES, Limits, decoding_errors, format_of, open_image
from .heif import orientation_to_apply
from .phash import perceptual_hash

# Orientations 5-8 rotate by a quarter turn, so the upright image has width and height swapped.
_QUARTER_TURNS = frozenset({5, 6, 7, 8})


@dataclasses.dataclass(frozen=True)
class IngestedPhoto:
    #: SHA-256 of the original bytes, which are evidence and are stored exactly as received.
    sha256: str
    size_bytes: int
    #: Pillow's name for the format found in the content: JPEG (a multi-picture JPEG too), PNG,
    #: WEBP or HEIF.
    format: str
    mime_type: str
    #: Dimensions as the photo is meant to be seen (EXIF orientation applied).
    width: int
    height: int
    exif: ExifInfo
    phash: str
    preview: Derivative
    thumbnail: Derivative


def ingest(source: bytes | str | os.PathLike[str], *, limits: Limits = Limits()) -> IngestedPhoto:
    """Validate an uploaded photo and compute its hashes, metadata and derivatives.

    ``source`` is the bytes themselves or the path of a file holding them. The format is read
    from the content; the file name means nothing. Raises a ``media.errors.MediaError``.
    """
    data = _read(source, limits)
    with open_image(io.BytesIO(data), limits) as img:
        # Inside decoding_errors because for PNG, Pillow decodes the whole image to find an
        # eXIf chunk placed after the pixel data.
        with decoding_errors():
            exif = read_exif(img)
        image_format = format_of(img)
        if image_format == "HEIF":
            exif = dataclasses.replace(exif, orientation=orientation_to_apply(data, img.info))
        width, height = img.size
        if exif.orientation in _QUARTER_TURNS:
            width, height = height, width
        made = make_derivatives(img, exif.orientation)
    return IngestedPhoto(
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        format=image_format,
        mime_type=MIME_TYPES[image_format],
        width=width,
        height=height,
        exif=exif,
        phash=perceptual_hash(made.upright_thumbnail),
        preview=made.preview,
        thumbnail=made.thumbnail,
    )


def _read(source: bytes | str | os.PathLike[str], limits: Limits) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        with open(source, "rb") as fh:
            if os.fstat(fh.fileno()).st_size > limits.max_bytes:
                raise TooLarge(_too_large(limits))
            # One byte over the limit is enough to know, should the file grow while we read.
            data = fh.read(limits.max_bytes + 1)
    if not data:
        raise EmptyFile()
    if len(data) > limits.max_bytes:
        raise TooLarge(_too_large(limits))
    return data


def _too_large(limits: Limits) -> str:
    return f"the file is larger than {limits.max_bytes} bytes"
