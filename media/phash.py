"""Perceptual hashes, to spot one photo handed in as evidence for two findings or rectifications."""

from __future__ import annotations

import re

import imagehash
from PIL import Image

#: Largest Hamming distance between two 64-bit pHashes that we flag as "looks reused".
#: Measured on the photo-like scenes of tests/media: a copy halved, re-encoded at quality 60 and
#: cropped by 2 / 3 / 5 / 8 % per side lands at 8 / 12 / 14 / 22; unrelated scenes at 28-40
#: (32 is random bits). Kept low because a legitimate after-photo (整改后) is shot from the same
#: spot as the before-photo and looks alike: the flag is a hint for a supervisor, never a rejection.
SIMILAR_MAX_DISTANCE = 12

_HEX64 = re.compile(r"[0-9a-f]{16}")


def perceptual_hash(img: Image.Image) -> str:
    """64-bit DCT pHash of the upright image as 16 lowercase hex digits."""
    return str(imagehash.phash(img, hash_size=8))


def hamming(a: str, b: str) -> int:
    """Number of differing bits between two hashes from ``perceptual_hash``."""
    for value in (a, b):
        if not _HEX64.fullmatch(value):
            raise ValueError(f"not a 64-bit perceptual hash: {value!r}")
    return (int(a, 16) ^ int(b, 16)).bit_count()


def looks_reused(a: str, b: str) -> bool:
    return hamming(a, b) <= SIMILAR_MAX_DISTANCE
