"""Preview and thumbnail: small, upright, JPEG, and free of the original's metadata.

Speed follows research/perf-measurements.md rows a7-a10: let libjpeg scale the DCT while
decoding (``draft``), ask for the aspect-correct size, shrink with ``reducing_gap``, derive the
thumbnail from the preview, and rotate only once the image is small.
"""

from __future__ import annotations

import dataclasses
import functools
import io

from PIL import Image, ImageCms

from .formats import decoding_errors, format_of

PREVIEW_SIZE = 1280
THUMBNAIL_SIZE = 320
JPEG_QUALITY = 82
#: Area averaging, the filter image libraries recommend for shrinking (OpenCV's INTER_AREA).
#: Both derivatives are shrinks of at least 1.5x, where it looks as clean as bicubic; for a
#: 12 MP photo, bicubic took 65 ms of a 120 ms ingest, the box filter takes 18
#: (benchmarks/media_bench.py, docs/performance.md "Photos").
RESAMPLE = Image.Resampling.BOX

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
    if format_of(img) == "JPEG":
        # A square box would make Pillow pick no scaling at all for a 4:3 photo (row a7).
        img.draft("RGB", _fit(img.size, PREVIEW_SIZE))
    with decoding_errors():
        img.load()
    preview = _shrink(_to_rgb(img), PREVIEW_SIZE)
    if orientation in _UPRIGHT:
        preview = preview.transpose(_UPRIGHT[orientation])
    # Converted once the image is small: a transform of 1.2 MP costs a few ms, of 12 MP ten times that.
    preview = to_srgb(preview, icc_profile)
    thumbnail = _shrink(preview, THUMBNAIL_SIZE)
    return Derivatives(
        preview=_encode_jpeg(preview),
        thumbnail=_encode_jpeg(thumbnail),
        upright_thumbnail=thumbnail,
    )


def _fit(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, long_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _shrink(img: Image.Image, long_side: int) -> Image.Image:
    """``img`` fitted within ``long_side``; a new image always, never enlarged."""
    size = _fit(img.size, long_side)
    if size == img.size:
        return img.copy()
    return img.resize(size, RESAMPLE)


#: Modes holding more than 8 bits per sample. ``convert("RGB")`` clips them at 255, which
#: turns a 16-bit greyscale PNG (0..65535) solid white; they are scaled to 8 bits instead.
_WIDE_MODES = {"I;16": 65535, "I;16L": 65535, "I;16B": 65535, "I;16N": 65535, "I": 65535, "F": 1.0}


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode == "RGB":
        return img
    if img.mode in _WIDE_MODES:
        # Mode I from a PNG holds 16-bit samples too; F (TIFF-like floats) is taken as 0..1.
        top = _WIDE_MODES[img.mode]
        wide = img.convert("F") if img.mode != "F" else img
        return wide.point(lambda value: value * (255 / top)).convert("L").convert("RGB")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        # Transparent areas would turn black in a JPEG; paper-white reads better in a report.
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return img.convert("RGB")


def to_srgb(img: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """``img`` in sRGB, the space browsers, Word and WeChat assume for an untagged JPEG.

    iPhones shoot Display P3: shown untagged, its colours come out dull. A profile that cannot
    be parsed is ignored rather than refusing the photo: the original keeps it as evidence.
    """
    if not icc_profile:
        return img
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        return ImageCms.profileToProfile(img, source, _srgb(), renderingIntent=ImageCms.Intent.PERCEPTUAL,
                                         outputMode="RGB") or img
    except (ImageCms.PyCMSError, OSError, ValueError):
        return img


@functools.cache
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _encode_jpeg(img: Image.Image) -> Derivative:
    out = io.BytesIO()
    # No exif= and no icc_profile= on purpose: derivatives are shown to units and in circulars
    # and must not leak the inspector's GPS track; their pixels are sRGB, which untagged means.
    img.save(out, "JPEG", quality=JPEG_QUALITY)
    return Derivative(data=out.getvalue(), width=img.width, height=img.height)
