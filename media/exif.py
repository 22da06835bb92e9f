"""What the phone wrote about a photo: when, where, which way up, with what.

Every tag is optional and phones write odd values, so a tag that cannot be read becomes
``None``: a photo is evidence even without metadata, and the caller decides what is missing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re

from PIL import Image, ExifTags

_EXIF_DATETIME = "%Y:%m:%d %H:%M:%S"
_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})")


@dataclasses.dataclass(frozen=True)
class ExifInfo:
    #: Capture time. Aware when the phone recorded its UTC offset (OffsetTimeOriginal, EXIF 2.31);
    #: naive otherwise -- it is then the phone's wall-clock time and the offset is unknown.
    captured_at: dt.datetime | None = None
    latitude: float | None = None
    longitude: float | None = None
    #: Metres above sea level (negative below).
    altitude: float | None = None
    #: EXIF orientation 1..8; 1 when absent or invalid.
    orientation: int = 1
    make: str | None = None
    model: str | None = None

    @property
    def captured_at_has_offset(self) -> bool:
        """False when ``captured_at`` is naive: we refuse to guess the phone's time zone."""
        return self.captured_at is not None and self.captured_at.tzinfo is not None


def read_exif(img: Image.Image) -> ExifInfo:
    exif = img.getexif()
    if not exif:
        return ExifInfo()
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    lat = _coordinate(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), 90)
    lon = _coordinate(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), 180)
    if lat is None or lon is None:
        # Half a position is no position.
        lat = lon = None
    orientation = exif.get(ExifTags.Base.Orientation)
    return ExifInfo(
        captured_at=_captured_at(sub),
        latitude=lat,
        longitude=lon,
        altitude=_altitude(gps.get(ExifTags.GPS.GPSAltitude), gps.get(ExifTags.GPS.GPSAltitudeRef)),
        orientation=orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else 1,
        make=_text(exif.get(ExifTags.Base.Make)),
        model=_text(exif.get(ExifTags.Base.Model)),
    )


def _captured_at(sub: dict) -> dt.datetime | None:
    # DateTime (0x0132) is left out on purpose: editors rewrite it, so it is not the capture time.
    for when_tag, offset_tag in (
        (ExifTags.Base.DateTimeOriginal, ExifTags.Base.OffsetTimeOriginal),
        (ExifTags.Base.DateTimeDigitized, ExifTags.Base.OffsetTimeDigitized),
    ):
        text = _text(sub.get(when_tag))
        if text is None:
            continue
        try:
            when = dt.datetime.strptime(text[:19], _EXIF_DATETIME)
        except ValueError:
            continue  # "0000:00:00 00:00:00" and blanks are common
        offset = _offset(_text(sub.get(offset_tag)))
        return when.replace(tzinfo=offset) if offset is not None else when
    return None


def _offset(text: str | None) -> dt.timezone | None:
    match = _OFFSET.fullmatch(text or "")
    if not match:
        return None
    sign, hours, minutes = match.groups()
    delta = dt.timedelta(hours=int(hours), minutes=int(minutes))
    if delta > dt.timedelta(hours=14):
        return None
    return dt.timezone(-delta if sign == "-" else delta)


def _coordinate(value, ref, bound: float) -> float | None:
    try:
        degrees, minutes, seconds = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    result = degrees + minutes / 60 + seconds / 3600
    # A zero denominator in a rational comes out as NaN.
    if not math.isfinite(result) or result > bound:
        return None
    ref = _text(ref)
    if ref is None:
        return None
    if ref.upper() in ("S", "W"):
        return -result
    return result if ref.upper() in ("N", "E") else None


def _altitude(value, ref) -> float | None:
    try:
        altitude = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not math.isfinite(altitude):
        return None
    # AltitudeRef is a BYTE: 1 means below sea level; Pillow gives it as int or as bytes.
    below = ref in (1, b"\x01")
    return -altitude if below else altitude


def _text(value) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = value.strip("\x00 ")
    return value or None
