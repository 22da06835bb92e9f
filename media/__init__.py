"""Xuncha's photo library: validation, EXIF, derivatives, hashes and storage backends on Pillow.

No Flask and no database here: the server's ``attachments`` domain calls into it.
"""

from .derivatives import PREVIEW_SIZE, THUMBNAIL_SIZE, Derivative
from .errors import (
    DigestMismatch,
    EmptyFile,
    InvalidKey,
    MediaError,
    NotFound,
    TooLarge,
    TooManyPixels,
    TruncatedImage,
    UnsupportedFormat,
)
from .exif import ExifInfo
from .formats import MIME_TYPES, Limits
from .ingest import IngestedPhoto, ingest
from .phash import SIMILAR_MAX_DISTANCE, hamming, looks_reused
from .s3 import S3Storage
from .storage import PREVIEW_SUFFIX, THUMBNAIL_SUFFIX, FileSystemStorage, Storage, key_for

__all__ = [
    "MIME_TYPES",
    "PREVIEW_SIZE",
    "PREVIEW_SUFFIX",
    "SIMILAR_MAX_DISTANCE",
    "THUMBNAIL_SIZE",
    "THUMBNAIL_SUFFIX",
    "Derivative",
    "DigestMismatch",
    "EmptyFile",
    "ExifInfo",
    "FileSystemStorage",
    "IngestedPhoto",
    "InvalidKey",
    "Limits",
    "MediaError",
    "NotFound",
    "S3Storage",
    "Storage",
    "TooLarge",
    "TooManyPixels",
    "TruncatedImage",
    "UnsupportedFormat",
    "hamming",
    "ingest",
    "key_for",
    "looks_reused",
]
