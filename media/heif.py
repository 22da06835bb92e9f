"""HEIC/HEIF orientation: whose rotation counts, the container's or the EXIF tag's.

A HEIF file turns its image with ``irot``/``imir`` properties, which libheif applies while
decoding; iPhones write those and an EXIF orientation saying the same. pillow-heif therefore
reports orientation 1 and keeps the tag as ``info["original_orientation"]``. A file that only
has the EXIF tag (written by converters and some Android phones) would come out sideways, so
the tag is applied exactly when the container has no transform of its own.
"""

from __future__ import annotations

import struct

_TRANSFORMS = (b"irot", b"imir")


def orientation_to_apply(data: bytes, info: dict) -> int:
    """The EXIF orientation still to apply to a decoded HEIF image (1: none)."""
    original = info.get("original_orientation")
    if not isinstance(original, int) or not 1 <= original <= 8:
        return 1
    meta = _top_level_box(data, b"meta")
    if meta is None or any(kind in meta for kind in _TRANSFORMS):
        # No metadata box is no HEIF we understand; a transform means libheif turned it already.
        return 1
    return original


def _top_level_box(data: bytes, kind: bytes) -> bytes | None:
    """The payload of the first top-level ISO-BMFF box of this type.

    Only ``meta`` is searched for property types: the coded image lives in ``mdat``, where the
    same four bytes can occur by chance.
    """
    offset = 0
    while offset + 8 <= len(data):
        size, box = struct.unpack_from(">I4s", data, offset)
        header = 8
        if size == 1 and offset + 16 <= len(data):
            size, header = struct.unpack_from(">Q", data, offset + 8)[0], 16
        elif size == 0:
            size = len(data) - offset
        if size < header:
            return None
        if box == kind:
            return data[offset + header: offset + size]
        offset += size
    return None
