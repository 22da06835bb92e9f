"""Finding perceptual hashes within a Hamming distance without comparing against every one.

Multi-index hashing (Norouzi, Punjani and Fleet, CVPR 2012): cut the 64-bit hash into four
16-bit segments and index each. Two hashes within ``d`` bits differ in at most ``d // 4``
bits in at least one segment (pigeonhole), so the candidates are the hashes having some
segment within that radius of the new hash's segment; the exact distance is then checked on
those few. For the default ``d`` = 12 the radius is 3: 697 values per segment.
"""

from __future__ import annotations

import itertools
from functools import cache

SEGMENTS = 4
SEGMENT_BITS = 16
_MASK = (1 << SEGMENT_BITS) - 1
#: Above this many values per segment, enumerating them costs more than it saves.
MAX_NEIGHBOURS = 3000


def segments(phash: str) -> tuple[int, ...]:
    """The hash's four 16-bit segments, most significant first."""
    value = int(phash, 16)
    return tuple((value >> (SEGMENT_BITS * (SEGMENTS - 1 - i))) & _MASK for i in range(SEGMENTS))


def segment_radius(max_distance: int) -> int:
    return max_distance // SEGMENTS


def neighbours(segment: int, radius: int) -> list[int]:
    """Every 16-bit value within ``radius`` bits of ``segment``."""
    return [segment ^ flips for flips in _flip_masks(radius)]


def searchable(max_distance: int) -> bool:
    """Whether the index narrows a search this wide (else compare with every hash)."""
    return len(_flip_masks(segment_radius(max_distance))) <= MAX_NEIGHBOURS


@cache
def _flip_masks(radius: int) -> tuple[int, ...]:
    masks = [0]
    for bits in range(1, radius + 1):
        for positions in itertools.combinations(range(SEGMENT_BITS), bits):
            masks.append(sum(1 << p for p in positions))
    return tuple(masks)
