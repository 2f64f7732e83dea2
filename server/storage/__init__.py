"""Upload storage: receiving, checking and keeping uploaded files."""

from __future__ import annotations

from server.storage.backend import (
    CleanupReport,
    LocalStorage,
    S3Storage,
    Storage,
    cleanup_orphans,
    iter_chunks,
)
from server.storage.errors import (
    CorruptFile,
    EmptyFile,
    FileTooLarge,
    ImageTooLarge,
    InvalidKey,
    QuotaExceeded,
    UnsupportedFileType,
    UploadError,
)
from server.storage.uploads import (
    ALL_TYPES,
    DEFAULT_MAX_BYTES,
    HEIC,
    IMAGE_TYPES,
    JPEG,
    PDF,
    PNG,
    StoredUpload,
    check_quota,
    display_name,
    store_upload,
    store_upload_async,
)

__all__ = [
    "ALL_TYPES",
    "DEFAULT_MAX_BYTES",
    "HEIC",
    "IMAGE_TYPES",
    "JPEG",
    "PDF",
    "PNG",
    "CleanupReport",
    "CorruptFile",
    "EmptyFile",
    "FileTooLarge",
    "ImageTooLarge",
    "InvalidKey",
    "LocalStorage",
    "QuotaExceeded",
    "S3Storage",
    "Storage",
    "StoredUpload",
    "UnsupportedFileType",
    "UploadError",
    "check_quota",
    "cleanup_orphans",
    "display_name",
    "iter_chunks",
    "store_upload",
    "store_upload_async",
]
