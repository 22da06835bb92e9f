"""Preview and thumbnail: small, upright, JPEG, and free of the original's metadata.

Speed follows research/perf-measurements.md rows a7-a10: let libjpeg scale the DCT while
decoding (``draft``), ask for the aspect-correct size, shrink with ``reducing_gap``, derive the
thumbnail from the preview, and rotate only once the image is small.
"""

from __future__ import annotations

import dataclasses
import io

from PIL import Image

from .formats import decoding_errors

PREVIEW_SIZE = 1280
THUMBNAIL_SIZE = 320
JPEG_QUALITY = 82
#: Same speed/quality trade-off Pillow's own thumbnail default makes (row a4).
REDUCING_GAP = 2.0

# The transposition that makes an image with this EXIF orientation upright, as ImageOps.exif_transpose.
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclasses.dataclass(frozen=True)
class Derivative:
    data: bytes
    width: int
    height: int
    mime_type: str = "image/jpeg"


@dataclasses.dataclass(frozen=True)
class Derivatives:
    preview: Derivative
    thumbnail: Derivative
    #: The upright thumbnail as pixels, for the perceptual hash: it works on 32x32 anyway, and
    #: shrinking 320 px instead of 1280 px to that costs 0.7 ms instead of 8.
    upright_thumbnail: Image.Image


def make_derivatives(img: Image.Image, orientation: int) -> Derivatives:
    """Decode ``img`` (opened, not yet loaded) into a preview and a thumbnail.

    Decoding the whole image is also what detects a truncated file: DCT scaling still reads
    the full entropy-coded stream (row a11).
    """
    icc_profile = img.info.get("icc_profile")
    if img.format == "JPEG":
        # A square box would make Pillow pick no scaling at all for a 4:3 photo (row a7).
        img.draft("RGB", _fit(img.size, PREVIEW_SIZE))
    with decoding_errors():
        img.load()
    preview = _to_rgb(img)
    preview.thumbnail((PREVIEW_SIZE, PREVIEW_SIZE), reducing_gap=REDUCING_GAP)
    if orientation in _UPRIGHT:
        preview = preview.transpose(_UPRIGHT[orientation])
    thumbnail = preview.copy()
    thumbnail.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), reducing_gap=REDUCING_GAP)
    return Derivatives(
        preview=_encode_jpeg(preview, icc_profile),
        thumbnail=_encode_jpeg(thumbnail, icc_profile),
        upright_thumbnail=thumbnail,
    )


def _fit(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, long_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode == "RGB":
        return img
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        # Transparent areas would turn black in a JPEG; paper-white reads better in a report.
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return img.convert("RGB")


def _encode_jpeg(img: Image.Image, icc_profile: bytes | None) -> Derivative:
    out = io.BytesIO()
    # No exif= on purpose: derivatives are shown to units and in circulars, and must not leak
    # the inspector's GPS track. The colour profile carries no personal data and keeps colours right.
    img.save(out, "JPEG", quality=JPEG_QUALITY, icc_profile=icc_profile)
    return Derivative(data=out.getvalue(), width=img.width, height=img.height)
