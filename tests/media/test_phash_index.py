"""media.phash_index: the segments find every hash within the distance, and few others."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from media import hamming
from media.phash_index import neighbours, searchable, segment_radius, segments


def _hex(value: int) -> str:
    return f"{value:016x}"


def _candidate(new: str, stored: str, max_bits: int) -> bool:
    radius = segment_radius(max_bits)
    return any(b in set(neighbours(a, radius)) for a, b in zip(segments(new), segments(stored)))


@given(st.integers(0, 2**64 - 1), st.sets(st.integers(0, 63), max_size=12))
def test_every_hash_within_twelve_bits_is_a_candidate(value, flipped):  # type: ignore[no-untyped-def]
    other = value
    for bit in flipped:
        other ^= 1 << bit
    assert hamming(_hex(value), _hex(other)) == len(flipped)

    assert _candidate(_hex(value), _hex(other), 12)


def test_unrelated_hashes_are_rarely_candidates():
    rng = random.Random(5)
    hashes = [_hex(rng.getrandbits(64)) for _ in range(2000)]
    new = _hex(rng.getrandbits(64))

    share = sum(_candidate(new, stored, 12) for stored in hashes) / len(hashes)

    assert share < 0.08  # 4 x 697 / 65536 = 4.3 % expected


def test_wide_searches_read_everything():
    assert searchable(12) and searchable(19)
    assert not searchable(24)
    assert segments("0123456789abcdef") == (0x0123, 0x4567, 0x89AB, 0xCDEF)
