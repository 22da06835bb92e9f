"""The exceptions ``media`` raises.

Every error carries a stable ``code`` (the server turns it into the ``type`` of a problem+json
response) and a human message. The tree::

    MediaError
    ├── EmptyFile          zero bytes
    ├── TooLarge           more bytes than Limits.max_bytes
    ├── UnsupportedFormat  not an image, or not JPEG / PNG / WebP / HEIC
    ├── TooManyPixels      header announces more pixels than Limits.max_pixels (a decompression bomb)
    ├── TruncatedImage     the header is fine but the image data is cut short or corrupt
    ├── InvalidKey         a storage key that is not a SHA-256 (optionally with a derivative suffix)
    ├── DigestMismatch     bytes stored under a SHA-256 that is not theirs
    └── NotFound           no object under that key
"""

from __future__ import annotations


class MediaError(Exception):
    """Base of every error raised by ``media``."""

    code = "media_error"
    default_message = "the photo could not be processed"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class EmptyFile(MediaError):
    code = "empty_file"
    default_message = "the file is empty"


class TooLarge(MediaError):
    code = "too_large"
    default_message = "the file is too large"


class UnsupportedFormat(MediaError):
    code = "unsupported_format"
    default_message = "the file is not a supported image (JPEG, PNG, WebP or HEIC)"


class TooManyPixels(MediaError):
    code = "too_many_pixels"
    default_message = "the image has too many pixels"


class TruncatedImage(MediaError):
    code = "truncated_image"
    default_message = "the image data is truncated or corrupt"


class InvalidKey(MediaError, ValueError):
    code = "invalid_key"
    default_message = "the storage key is not a lowercase SHA-256 hex digest"


class DigestMismatch(MediaError, ValueError):
    code = "digest_mismatch"
    default_message = "the data does not match its SHA-256 key"


class NotFound(MediaError, LookupError):
    code = "not_found"
    default_message = "no stored object under this key"
