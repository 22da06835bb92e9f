"""Which images we accept and how they are opened: by content, within configured limits."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

from .errors import TooManyPixels, TruncatedImage, UnsupportedFormat

try:
    import pillow_heif
except ImportError:  # pragma: no cover - HEIC is optional: iPhones can be set to shoot JPEG
    pillow_heif = None
else:
    pillow_heif.register_heif_opener()

#: Pillow format name -> MIME type of the original as stored.
MIME_TYPES: dict[str, str] = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
if pillow_heif is not None:
    MIME_TYPES["HEIF"] = "image/heic"

#: Formats Pillow names apart that are one of the above as evidence. A multi-picture JPEG
#: (MPO: iPhones write their HDR gain map, cameras a stereo pair, as a second image after the
#: first) is a JPEG whose first image is the photo; every JPEG viewer shows only that one.
SAME_AS = {"MPO": "JPEG"}


def format_of(img: Image.Image) -> str:
    """The accepted format of an opened image: JPEG, PNG, WEBP or HEIF."""
    return SAME_AS.get(img.format or "", img.format or "")


@dataclasses.dataclass(frozen=True)
class Limits:
    """What an upload may weigh; configuration, so the server passes its own.

    Pillow refuses on its own anything above twice ``Image.MAX_IMAGE_PIXELS`` (about 179 MP),
    so a ``max_pixels`` above that has no effect.
    """

    max_bytes: int = 30 * 1024 * 1024
    max_pixels: int = 50_000_000


@contextlib.contextmanager
def decoding_errors() -> Iterator[None]:
    """Turn what Pillow raises while decoding into ``MediaError``s.

    Pillow reports a cut-off stream as OSError, a broken one as SyntaxError or ValueError,
    and only raises DecompressionBombWarning when warnings are errors (as in the tests).
    """
    try:
        yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise TooManyPixels(str(exc)) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise TruncatedImage(f"the image data is truncated or corrupt ({exc})") from exc


def open_image(stream: BinaryIO, limits: Limits) -> Image.Image:
    """Open (header only, nothing decoded yet) an accepted image; refuse bombs before decoding."""
    with decoding_errors():
        try:
            # Restricting the plugins tried means no decoder we do not accept ever parses the file.
            # The JPEG plugin itself hands multi-picture files to the MPO plugin (SAME_AS).
            img = Image.open(stream, formats=list(MIME_TYPES))
        except UnidentifiedImageError as exc:
            raise UnsupportedFormat() from exc
    width, height = img.size
    if width * height > limits.max_pixels:
        img.close()
        raise TooManyPixels(
            f"the image has {width}x{height} pixels, more than the {limits.max_pixels} allowed"
        )
    return img
