"""Photo-like images made on the fly: no binary fixtures in the repository."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter


def photo_like(seed: int, size: tuple[int, int] = (1600, 1200)) -> Image.Image:
    """A scene of soft shapes, a horizon and sensor noise: structure at every scale, like a photo.

    Flat synthetic images would make the perceptual-hash tests meaningless.
    """
    rng = np.random.default_rng(seed)
    small = Image.new("RGB", (160, 120), tuple(int(c) for c in rng.integers(0, 256, 3)))
    draw = ImageDraw.Draw(small)
    draw.rectangle((0, int(rng.integers(30, 90)), 160, 120), fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
    for _ in range(14):
        x, y = (int(v) for v in rng.integers(-20, 160, 2))
        w, h = (int(v) for v in rng.integers(10, 70, 2))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((x, y, x + w, y + h), fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
    scene = small.filter(ImageFilter.GaussianBlur(1.5)).resize(size, Image.Resampling.BICUBIC)
    noise = rng.normal(0, 6, (size[1], size[0], 1))
    pixels = np.clip(np.asarray(scene, dtype=np.float32) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels)


def encode(img: Image.Image, fmt: str = "JPEG", **params) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **params)
    return out.getvalue()


@pytest.fixture(scope="session")
def photo_jpeg() -> bytes:
    return encode(photo_like(1), quality=90)


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ \0\0\0\0" + _s15(x) + _s15(y) + _s15(z)


#: sRGB's primaries adapted to D50, as an ICC profile states them.
SRGB_PRIMARIES = {"r": (0.4361, 0.2225, 0.0139), "g": (0.3851, 0.7169, 0.0971), "b": (0.1431, 0.0606, 0.7141)}


def rgb_profile(primaries: dict[str, tuple[float, float, float]]) -> bytes:
    """A minimal ICC v2 display profile: these primaries, linear curves, a D50 white point."""
    linear = b"curv\0\0\0\0" + struct.pack(">I", 0)
    name = b"test profile\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(name)) + name + b"\0" * 8 + b"\0" * 3 + b"\0" * 67
    tags = [(b"desc", desc), (b"wtpt", _xyz(0.9642, 1.0, 0.8249))]
    tags += [(f"{c}XYZ".encode(), _xyz(*primaries[c])) for c in "rgb"]
    tags += [(f"{c}TRC".encode(), linear) for c in "rgb"]
    table_end = 128 + 4 + 12 * len(tags)
    entries, body = b"", b""
    for signature, data in tags:
        data += b"\0" * (-len(data) % 4)
        entries += signature + struct.pack(">II", table_end + len(body), len(data))
        body += data
    size = table_end + len(body)
    header = (struct.pack(">I", size) + b"\0" * 4 + struct.pack(">I", 0x02100000) + b"mntrRGB XYZ "
              + b"\0" * 12 + b"acsp" + b"\0" * 24 + b"\0" * 4 + _s15(0.9642) + _s15(1.0) + _s15(0.8249)
              + b"\0" * 48)
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + entries + body
