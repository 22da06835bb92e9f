"""media.ingest: what a phone photo becomes, and what is refused."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import struct
import zlib

import pytest
from PIL import ExifTags, Image

from media import (
    SIMILAR_MAX_DISTANCE,
    EmptyFile,
    Limits,
    MediaError,
    TooLarge,
    TooManyPixels,
    TruncatedImage,
    UnsupportedFormat,
    hamming,
    ingest,
)
from media.derivatives import make_derivatives

from .conftest import SRGB_PRIMARIES, encode, photo_like, rgb_profile

RED = (255, 0, 0)


def phone_exif(*, orientation: int = 1, offset: str | None = "+08:00") -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "HUAWEI"
    exif[ExifTags.Base.Model] = "ELS-AN00"
    sub = {ExifTags.Base.DateTimeOriginal: "2026:10:23 09:15:30"}
    if offset is not None:
        sub[ExifTags.Base.OffsetTimeOriginal] = offset
    exif[ExifTags.IFD.Exif] = sub
    # South and west, below sea level: every sign has to come from a Ref tag.
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "S",
        ExifTags.GPS.GPSLatitude: (32.0, 41.0, 24.0),
        ExifTags.GPS.GPSLongitudeRef: "W",
        ExifTags.GPS.GPSLongitude: (109.0, 1.0, 30.0),
        ExifTags.GPS.GPSAltitudeRef: b"\x01",
        ExifTags.GPS.GPSAltitude: 12.5,
    }
    return exif


@pytest.fixture(scope="module")
def rotated_photo() -> bytes:
    """4000x3000 as the sensor stored it, shot with the phone turned: orientation 6."""
    img = photo_like(7, (4000, 3000))
    img.paste(RED, (0, 0, 400, 400))  # stored top-left; upright it is the top-right corner
    return encode(img, quality=90, exif=phone_exif(orientation=6))


def decode(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def test_orientation_6_comes_out_upright(rotated_photo):
    photo = ingest(rotated_photo)

    assert (photo.width, photo.height) == (3000, 4000)
    preview = decode(photo.preview.data)
    thumbnail = decode(photo.thumbnail.data)
    assert preview.size == (photo.preview.width, photo.preview.height) == (960, 1280)
    assert thumbnail.size == (photo.thumbnail.width, photo.thumbnail.height) == (240, 320)
    for img in (preview, thumbnail):
        w, h = img.size
        top_right = img.getpixel((w - w // 40, h // 40))
        top_left = img.getpixel((w // 40, h // 40))
        assert _near(top_right, RED), top_right
        assert not _near(top_left, RED), top_left


def _near(colour, expected, tolerance=40):
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected))


def test_identity_and_metadata(rotated_photo):
    photo = ingest(rotated_photo)

    assert photo.sha256 == hashlib.sha256(rotated_photo).hexdigest()
    assert photo.size_bytes == len(rotated_photo)
    assert (photo.format, photo.mime_type) == ("JPEG", "image/jpeg")
    exif = photo.exif
    assert exif.orientation == 6
    assert (exif.make, exif.model) == ("HUAWEI", "ELS-AN00")
    assert exif.captured_at == dt.datetime(2026, 10, 23, 1, 15, 30, tzinfo=dt.timezone.utc)
    assert exif.captured_at.utcoffset() == dt.timedelta(hours=8)
    assert exif.captured_at_has_offset
    assert exif.latitude == pytest.approx(-(32 + 41 / 60 + 24 / 3600))
    assert exif.longitude == pytest.approx(-(109 + 1 / 60 + 30 / 3600))
    assert exif.altitude == pytest.approx(-12.5)


def test_capture_time_without_offset_stays_naive():
    photo = ingest(encode(photo_like(2, (400, 300)), exif=phone_exif(offset=None)))

    assert photo.exif.captured_at == dt.datetime(2026, 10, 23, 9, 15, 30)
    assert photo.exif.captured_at.tzinfo is None
    assert not photo.exif.captured_at_has_offset


def test_photo_without_exif():
    photo = ingest(encode(photo_like(2, (400, 300))))

    assert photo.exif.captured_at is None and photo.exif.latitude is None
    assert photo.exif.orientation == 1
    assert (photo.width, photo.height) == (400, 300)


def test_derivatives_carry_no_metadata(rotated_photo):
    photo = ingest(rotated_photo)

    for derivative in (photo.preview, photo.thumbnail):
        img = decode(derivative.data)
        assert img.format == "JPEG"
        assert not img.getexif()
        assert "exif" not in img.info
        assert b"Exif\x00" not in derivative.data
        assert b"HUAWEI" not in derivative.data


def test_small_photo_is_not_enlarged():
    photo = ingest(encode(photo_like(3, (200, 150))))

    assert (photo.preview.width, photo.preview.height) == (200, 150)
    assert (photo.thumbnail.width, photo.thumbnail.height) == (200, 150)


@pytest.mark.parametrize(
    ("fmt", "mode", "mime"),
    [("PNG", "RGBA", "image/png"), ("PNG", "P", "image/png"), ("WEBP", "RGB", "image/webp")],
)
def test_png_and_webp_accepted(fmt, mode, mime):
    photo = ingest(encode(photo_like(4, (640, 480)).convert(mode), fmt))

    assert photo.mime_type == mime
    assert decode(photo.preview.data).mode == "RGB"


def test_heic_accepted():
    data = encode(photo_like(5, (640, 480)), "HEIF", quality=80)

    photo = ingest(data)

    assert (photo.format, photo.mime_type) == ("HEIF", "image/heic")
    assert (photo.preview.width, photo.preview.height) == (640, 480)


def test_heic_with_an_exif_orientation_comes_out_upright():
    # Converters and some Android phones: the EXIF tag alone, no irot in the container.
    img = photo_like(5, (800, 600))
    img.paste(RED, (0, 0, 100, 100))

    photo = ingest(encode(img, "HEIF", quality=80, exif=phone_exif(orientation=6)))

    assert photo.exif.orientation == 6
    assert (photo.width, photo.height) == (600, 800)
    preview = decode(photo.preview.data)
    assert preview.size == (600, 800)
    assert _near(preview.getpixel((590, 10)), RED) and not _near(preview.getpixel((10, 10)), RED)


def test_heic_turned_by_its_container_is_not_turned_twice():
    import pillow_heif

    img = photo_like(5, (800, 600))
    img.info["exif"] = phone_exif(orientation=6).tobytes()
    out = io.BytesIO()
    pillow_heif.from_pillow(img).save(out, quality=80)  # writes an irot, as iPhones do
    data = out.getvalue()
    decoded = decode(data)
    assert decoded.info["original_orientation"] == 6

    photo = ingest(data)

    assert photo.exif.orientation == 1
    assert (photo.preview.width, photo.preview.height) == decoded.size


def test_path_is_read_and_name_is_ignored(tmp_path, photo_jpeg):
    path = tmp_path / "evidence.png"
    path.write_bytes(photo_jpeg)

    assert ingest(path).format == "JPEG"


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG announcing a huge 1-bit image; its pixel data is a few bytes of garbage."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_refusals_share_one_tree():
    assert all(
        issubclass(error, MediaError) and error.code
        for error in (EmptyFile, TooLarge, TooManyPixels, TruncatedImage, UnsupportedFormat)
    )


def test_decompression_bomb_refused():
    with pytest.raises(TooManyPixels) as caught:
        ingest(_png_header_only(30000, 30000))
    assert caught.value.code == "too_many_pixels"


def test_pixel_limit_checked_from_header_before_decoding():
    # Decoding this file would fail as corrupt, so TooManyPixels proves nothing was decoded.
    with pytest.raises(TooManyPixels):
        ingest(_png_header_only(8000, 8000))
    with pytest.raises(TruncatedImage):
        ingest(_png_header_only(8000, 8000), limits=Limits(max_pixels=8000 * 8000))


def test_pixel_limit_is_configurable(photo_jpeg):
    with pytest.raises(TooManyPixels):
        ingest(photo_jpeg, limits=Limits(max_pixels=1600 * 1200 - 1))
    assert ingest(photo_jpeg, limits=Limits(max_pixels=1600 * 1200)).width == 1600


@pytest.mark.parametrize("keep", [0.5, 0.98])
def test_truncated_jpeg_refused(photo_jpeg, keep):
    with pytest.raises(TruncatedImage) as caught:
        ingest(photo_jpeg[: int(len(photo_jpeg) * keep)])
    assert caught.value.code == "truncated_image"


def test_text_named_jpg_refused(tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_text("巡查 not really a photo\n", encoding="utf-8")

    with pytest.raises(UnsupportedFormat) as caught:
        ingest(path)
    assert caught.value.code == "unsupported_format"


def test_gif_refused():
    with pytest.raises(UnsupportedFormat):
        ingest(encode(photo_like(6, (64, 48)), "GIF"))


def test_zero_bytes_refused(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")

    for source in (b"", path):
        with pytest.raises(EmptyFile) as caught:
            ingest(source)
        assert caught.value.code == "empty_file"


def test_oversize_refused(tmp_path, photo_jpeg):
    path = tmp_path / "big.jpg"
    path.write_bytes(photo_jpeg)
    limits = Limits(max_bytes=len(photo_jpeg) - 1)

    for source in (photo_jpeg, path):
        with pytest.raises(TooLarge) as caught:
            ingest(source, limits=limits)
        assert caught.value.code == "too_large"
    assert ingest(path, limits=Limits(max_bytes=len(photo_jpeg))).size_bytes == len(photo_jpeg)


def test_reused_photo_is_recognised():
    original = photo_like(11)
    w, h = original.size
    # What a unit might hand in again: cropped by 2 % per side, halved, re-encoded harder.
    copy = original.crop((w * 2 // 100, h * 2 // 100, w * 98 // 100, h * 98 // 100))
    copy = copy.resize((copy.width // 2, copy.height // 2), Image.Resampling.BILINEAR)

    first = ingest(encode(original, quality=92)).phash
    again = ingest(encode(copy, quality=60)).phash
    other = ingest(encode(photo_like(12), quality=92)).phash

    assert hamming(first, again) <= SIMILAR_MAX_DISTANCE
    assert hamming(first, other) > 2 * SIMILAR_MAX_DISTANCE


def test_phash_follows_the_upright_image(rotated_photo):
    upright = decode(ingest(rotated_photo).preview.data)

    assert hamming(ingest(rotated_photo).phash, ingest(encode(upright)).phash) <= 4


def test_hamming_refuses_other_strings():
    assert hamming("0" * 16, "f" * 16) == 64
    with pytest.raises(ValueError):
        hamming("0" * 16, "xyz")


def test_jpeg_decoded_at_reduced_scale_for_its_aspect():
    # 2592x1944 (5 MP): a square 1280 box would make Pillow decode at full scale (perf row a7).
    img = Image.open(io.BytesIO(encode(photo_like(8, (2592, 1944)), quality=85)))
    decoded_sizes = []
    draft = img.draft

    def spy(mode, size):
        result = draft(mode, size)
        decoded_sizes.append(img.size)
        return result

    img.draft = spy

    made = make_derivatives(img, orientation=1)

    assert decoded_sizes[0] == (1296, 972)
    assert (made.preview.width, made.preview.height) == (1280, 960)


def test_derivatives_are_converted_to_srgb():
    # A profile whose red and green primaries are sRGB's swapped: its red is sRGB's green.
    swapped = rgb_profile({"r": SRGB_PRIMARIES["g"], "g": SRGB_PRIMARIES["r"], "b": SRGB_PRIMARIES["b"]})
    data = encode(Image.new("RGB", (640, 480), (230, 20, 20)), quality=95, icc_profile=swapped)

    photo = ingest(data)

    for derivative in (photo.preview, photo.thumbnail):
        img = decode(derivative.data)
        red, green, blue = img.getpixel((10, 10))
        assert green > 200 and red < 120 and blue < 120, (red, green, blue)
        assert "icc_profile" not in img.info  # untagged means sRGB


def test_an_unreadable_colour_profile_is_ignored():
    data = encode(Image.new("RGB", (640, 480), (230, 20, 20)), quality=95, icc_profile=b"not a profile")

    preview = decode(ingest(data).preview.data)

    assert _near(preview.getpixel((10, 10)), (230, 20, 20), tolerance=8)


def iphone_mpo(img: Image.Image, exif: Image.Exif) -> bytes:
    """A multi-picture JPEG as recent iPhones write one: the photo, then a small greyscale gain map."""
    gain_map = Image.new("RGB", (img.width // 4, img.height // 4), (128, 128, 128))
    return encode(img, "MPO", save_all=True, append_images=[gain_map], quality=90, exif=exif)


def test_a_multi_picture_jpeg_is_its_first_picture(rotated_photo):
    img = photo_like(7, (4000, 3000))
    img.paste(RED, (0, 0, 400, 400))
    data = iphone_mpo(img, phone_exif(orientation=6))
    assert Image.open(io.BytesIO(data)).format == "MPO"

    photo = ingest(data)

    assert (photo.format, photo.mime_type) == ("JPEG", "image/jpeg")
    assert photo.sha256 == hashlib.sha256(data).hexdigest() and photo.size_bytes == len(data)
    assert (photo.width, photo.height) == (3000, 4000)
    assert (photo.exif.make, photo.exif.latitude is not None) == ("HUAWEI", True)
    preview = decode(photo.preview.data)
    assert preview.size == (960, 1280)
    assert _near(preview.getpixel((950, 10)), RED) and not _near(preview.getpixel((10, 10)), RED)
    # The same picture as the plain JPEG of the same pixels: the gain map is not the evidence.
    assert hamming(photo.phash, ingest(rotated_photo).phash) <= 4


def test_heic_with_a_second_image_shows_its_primary():
    # pillow-heif cannot write an auxiliary gain map; a second top-level image, the primary
    # not the first, is the harder case of the same thing: the primary is the photo.
    gain_map = Image.new("RGB", (320, 240), (128, 128, 128))
    scene = photo_like(9, (800, 600))
    scene.paste(RED, (0, 0, 200, 200))
    data = encode(gain_map, "HEIF", save_all=True, append_images=[scene], primary_index=1, quality=80)

    photo = ingest(data)

    assert (photo.format, photo.width, photo.height) == ("HEIF", 800, 600)
    assert _near(decode(photo.preview.data).getpixel((20, 20)), RED)


def test_heic_with_ten_bits_per_sample_keeps_its_tones():
    import numpy as np
    import pillow_heif

    grey = np.full((600, 800, 3), 40000, dtype=np.uint16)  # 61 % of full scale
    out = io.BytesIO()
    pillow_heif.from_bytes(mode="RGB;16", size=(800, 600), data=grey.tobytes()).save(out, quality=80)

    photo = ingest(out.getvalue())

    assert _near(decode(photo.preview.data).getpixel((400, 300)), (156, 156, 156), tolerance=6)


def test_a_sixteen_bit_greyscale_png_keeps_its_tones():
    ramp = Image.new("I;16", (1024, 256))
    ramp.putdata([(x % 1024) * 64 for x in range(1024 * 256)])  # 0 .. 65472, dark to light
    data = encode(ramp, "PNG")
    assert Image.open(io.BytesIO(data)).mode in ("I;16", "I")

    photo = ingest(data)

    for derivative in (photo.preview, photo.thumbnail):
        grey = decode(derivative.data).convert("L")
        w, h = grey.size
        dark, light = grey.getpixel((w // 20, h // 2)), grey.getpixel((w - w // 20, h // 2))
        assert dark < 30 and light > 225, (dark, light)
        assert grey.getpixel((w // 2, h // 2)) == pytest.approx(128, abs=10)
