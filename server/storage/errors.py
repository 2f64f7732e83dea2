"""Domain errors of upload storage, each with a stable code the API passes to the client."""

from __future__ import annotations

from server.errors import DomainError


class UploadError(DomainError):
    code = "UPLOAD_ERROR"

    def __init__(self, message: str, *, field: str | None = "file") -> None:
        super().__init__(message, field=field)


class FileTooLarge(UploadError):
    code = "FILE_TOO_LARGE"

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"The file is larger than the limit of {_megabytes(max_bytes)}.")
        self.max_bytes = max_bytes


class EmptyFile(UploadError):
    code = "EMPTY_FILE"

    def __init__(self) -> None:
        super().__init__("The file is empty.")


class UnsupportedFileType(UploadError):
    code = "UNSUPPORTED_FILE_TYPE"


class CorruptFile(UploadError):
    code = "CORRUPT_FILE"


class ImageTooLarge(UploadError):
    """Too many pixels: refused before decoding, as a guard against decompression bombs."""

    code = "IMAGE_TOO_LARGE"


class QuotaExceeded(UploadError):
    code = "QUOTA_EXCEEDED"

    def __init__(self, used_bytes: int, new_bytes: int, cap: int) -> None:
        super().__init__(
            f"The files of one claim may total at most {_megabytes(cap)}; "
            f"{_megabytes(used_bytes)} are already used and this file needs {_megabytes(new_bytes)}."
        )
        self.used_bytes = used_bytes
        self.new_bytes = new_bytes
        self.cap = cap


class StorageFull(UploadError):
    """The disk (or quota) under the uploads is full: the server's trouble, not the file's."""

    code = "STORAGE_FULL"

    def __init__(self) -> None:
        super().__init__(
            "The server cannot store files right now; please try again later.", field=None
        )


class InvalidKey(UploadError):
    """A storage key not made by this module: never turned into a path or an object name."""

    code = "INVALID_STORAGE_KEY"

    def __init__(self) -> None:
        super().__init__("The stored file reference is not valid.", field=None)


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
