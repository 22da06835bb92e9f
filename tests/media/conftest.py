"""Photo-like images made on the fly: no binary fixtures in the repository."""

from __future__ import annotations

import io

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
