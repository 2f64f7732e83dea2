"""Receive one uploaded file: limit, identify by content, clean up images, store.

The bytes are streamed to a temporary file in the storage's temporary directory while
they are counted and hashed, so memory does not grow with the file and an oversized
upload is refused as soon as it passes the limit. The type comes from the first bytes,
never from the client's file name or header: JPEG, PNG, HEIC and PDF only.

Images are decoded and encoded again, which drops EXIF (GPS position, device serials)
and any other metadata and turns the picture upright from its orientation tag; HEIC
becomes JPEG so every browser can show it; a small JPEG thumbnail is made for previews.
A stored image's long side is at most `max_side` (2048: an A4 invoice at about 170 dpi),
and an image larger than that keeps at least 90 % of it. A larger JPEG, such as a
12-megapixel phone photo, is decoded straight at 1/2, 1/4 or 1/8 scale by the JPEG
decoder (draft mode) when that lands in this range, which costs a fraction of decoding
every pixel and resampling them; the thumbnail is made from the decoded image.
A PDF is kept byte for byte after a structural check, since re-rendering it would lose
what an adjuster needs to read.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import hashlib
import inspect
import io
import logging
import re
import unicodedata
from collections.abc import AsyncIterable, AsyncIterator, Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from PIL import ExifTags, Image, ImageCms

from server.storage.backend import CHUNK_SIZE, Storage, new_key, new_temp_file, thumbnail_key
from server.storage.errors import (
    CorruptFile,
    EmptyFile,
    FileTooLarge,
    ImageTooLarge,
    QuotaExceeded,
    StorageFull,
    UnsupportedFileType,
    UploadError,
)

log = logging.getLogger("storage.uploads")

JPEG = "image/jpeg"
PNG = "image/png"
HEIC = "image/heic"
PDF = "application/pdf"
IMAGE_TYPES = frozenset({JPEG, PNG, HEIC})
ALL_TYPES = frozenset({JPEG, PNG, HEIC, PDF})
LABELS = {JPEG: "JPEG", PNG: "PNG", HEIC: "HEIC", PDF: "PDF"}

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# A 48-megapixel phone photo passes; a small file claiming a huge canvas does not.
DEFAULT_MAX_PIXELS = 50_000_000
# Long side of a stored image: an invoice stays legible and decoding memory stays bounded.
DEFAULT_MAX_SIDE = 2048
# A larger image keeps at least this share of max_side (see _jpeg_scale).
MIN_SIDE_SHARE = 0.9
THUMBNAIL_SIDE = 320
DISPLAY_NAME_MAX = 100

SNIFF_BYTES = 256
# Readers accept a PDF whose end marker lies within the last 1024 bytes.
PDF_TAIL = 1024
HEVC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
AVIF_BRANDS = frozenset({b"avif", b"avis"})


@dataclass(frozen=True, slots=True)
class StoredUpload:
    key: str
    thumbnail_key: str | None
    content_type: str  # of the stored bytes: an uploaded HEIC is stored as JPEG
    size: int  # of the stored bytes
    sha256: str  # of the stored bytes
    original_content_type: str
    original_size: int
    # Of the bytes as uploaded: the same invoice photo sent twice has the same hash,
    # while the re-encoded bytes may differ between Pillow versions.
    original_sha256: str
    width: int | None
    height: int | None
    display_name: str

    @property
    def is_image(self) -> bool:
        return self.content_type != PDF


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def sniff(head: bytes) -> str | None:
    """The accepted type these first bytes begin, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"%PDF-"):
        return PDF
    if len(head) >= 16 and head[4:8] == b"ftyp":
        # An ISO-BMFF file type box: major brand, minor version, compatible brands.
        box_end = min(max(int.from_bytes(head[0:4], "big"), 16), len(head))
        brands = {head[8:12]} | {head[i : i + 4] for i in range(16, box_end - 3, 4)}
        if brands & HEVC_BRANDS or (b"mif1" in brands and not brands & AVIF_BRANDS):
            return HEIC
    return None


def display_name(filename: str | None) -> str:
    """A harmless name to show the claimant; never used to store or find the file."""
    name = unicodedata.normalize("NFC", filename or "")
    name = re.split(r"[\\/]", name)[-1]
    # Category C covers control characters and the bidi overrides that disguise extensions.
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = re.sub(r'[<>:"|?*]', "_", name)
    name = " ".join(name.split()).strip(" .")
    if not name:
        return "upload"
    if len(name) > DISPLAY_NAME_MAX:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) <= 10:
            name = stem[: DISPLAY_NAME_MAX - len(extension) - 1].rstrip(" .") + "." + extension
        else:
            name = name[:DISPLAY_NAME_MAX]
    return name


def check_quota(used_bytes: int, new_bytes: int, cap: int) -> None:
    """Refuse a file that would take a claim's uploads past `cap` bytes."""
    if used_bytes + new_bytes > cap:
        raise QuotaExceeded(used_bytes, new_bytes, cap)


def delete_uploads(storage: Storage, uploads: Collection[StoredUpload]) -> None:
    """Delete stored uploads (and their thumbnails) no record will refer to."""
    for upload in uploads:
        for key in (upload.key, upload.thumbnail_key):
            if key is None:
                continue
            try:
                storage.delete(key)
            except Exception:
                # the clean-up script removes what is left once it is old enough
                log.exception("could not delete stored upload %s", key)


def store_upload(
    storage: Storage,
    source: Iterable[bytes] | Readable | bytes,
    *,
    filename: str | None = None,
    allowed: frozenset[str] = ALL_TYPES,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: int = DEFAULT_MAX_SIDE,
    chunk_size: int = CHUNK_SIZE,
) -> StoredUpload:
    """Receive `source` (byte chunks or a file-like object), check it and store it.

    A full disk raises StorageFull, with nothing of the file left behind.
    """
    with _full_disk():
        receiver = _Receiver(storage, allowed=allowed, max_bytes=max_bytes)
        try:
            for chunk in _chunks(source, chunk_size):
                receiver.feed(chunk)
            receiver.finish()
            return _store(storage, receiver, display_name(filename), max_pixels, max_side)
        finally:
            receiver.discard()


async def store_upload_async(
    storage: Storage,
    source: AsyncIterable[bytes] | Any,
    *,
    filename: str | None = None,
    allowed: frozenset[str] = ALL_TYPES,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: int = DEFAULT_MAX_SIDE,
    chunk_size: int = CHUNK_SIZE,
) -> StoredUpload:
    """As `store_upload`, for an async chunk stream or an object with `async read(n)`.

    Decoding and storing run in a worker thread so the event loop keeps serving.
    """
    with _full_disk():
        receiver = _Receiver(storage, allowed=allowed, max_bytes=max_bytes)
        try:
            async for chunk in _achunks(source, chunk_size):
                receiver.feed(chunk)
            receiver.finish()
            return await asyncio.to_thread(
                _store, storage, receiver, display_name(filename), max_pixels, max_side
            )
        finally:
            receiver.discard()


FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


@contextlib.contextmanager
def _full_disk() -> Iterator[None]:
    """ENOSPC (or a quota) while receiving or storing: StorageFull, logged as one line."""
    try:
        yield
    except OSError as e:
        if e.errno not in FULL_ERRNOS:
            raise
        log.error("upload refused: no space left for uploads (%s)", e.strerror)
        raise StorageFull() from None


def _chunks(source: Iterable[bytes] | Readable | bytes, chunk_size: int) -> Iterator[bytes]:
    if isinstance(source, bytes | bytearray | memoryview):
        yield bytes(source)
    elif hasattr(source, "read"):
        while chunk := source.read(chunk_size):
            yield chunk
    else:
        yield from source


async def _achunks(source: Any, chunk_size: int) -> AsyncIterator[bytes]:
    read = getattr(source, "read", None)
    if read is not None and inspect.iscoroutinefunction(read):
        while chunk := await read(chunk_size):
            yield chunk
    else:
        async for chunk in source:
            yield chunk


class _Receiver:
    """Writes incoming chunks to a temporary file, counting, hashing and sniffing them."""

    def __init__(self, storage: Storage, *, allowed: frozenset[str], max_bytes: int) -> None:
        self.allowed = allowed
        self.max_bytes = max_bytes
        self.size = 0
        self.content_type: str | None = None
        self._head = bytearray()
        self._hash = hashlib.sha256()
        self.path = new_temp_file(storage)
        self._file = self.path.open("wb")

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise FileTooLarge(self.max_bytes)
        if self.content_type is None and len(self._head) < SNIFF_BYTES:
            self._head += chunk[: SNIFF_BYTES - len(self._head)]
            if len(self._head) >= SNIFF_BYTES:
                # Decide now, so a refused type is not received to the end.
                self._decide()
        self._hash.update(chunk)
        self._file.write(chunk)

    def finish(self) -> None:
        self._file.close()
        if self.size == 0:
            raise EmptyFile()
        if self.content_type is None:
            self._decide()

    def discard(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)

    def _decide(self) -> None:
        kind = sniff(bytes(self._head))
        accepted = ", ".join(LABELS[t] for t in sorted(self.allowed, key=list(LABELS).index))
        if kind is None:
            raise UnsupportedFileType(
                f"The file is not a supported type; accepted here: {accepted}. "
                "The type is read from the file's content, not its name."
            )
        if kind not in self.allowed:
            raise UnsupportedFileType(
                f"A {LABELS[kind]} file is not accepted here; accepted here: {accepted}."
            )
        self.content_type = kind


def _store(
    storage: Storage, receiver: _Receiver, name: str, max_pixels: int, max_side: int
) -> StoredUpload:
    assert receiver.content_type is not None
    if receiver.content_type == PDF:
        _check_pdf(receiver.path, receiver.size)
        key = new_key("pdf")
        storage.put_file(key, receiver.path)
        return StoredUpload(
            key=key,
            thumbnail_key=None,
            content_type=PDF,
            size=receiver.size,
            sha256=receiver.sha256,
            original_content_type=PDF,
            original_size=receiver.size,
            original_sha256=receiver.sha256,
            width=None,
            height=None,
            display_name=name,
        )
    return _store_image(storage, receiver, name, max_pixels, max_side)


def _check_pdf(path: Path, size: int) -> None:
    with path.open("rb") as f:
        f.seek(max(size - PDF_TAIL, 0))
        tail = f.read()
    if b"%%EOF" not in tail:
        raise CorruptFile("The PDF is incomplete or damaged: its end marker is missing.")


_PIL_FORMATS = {JPEG: "JPEG", PNG: "PNG", HEIC: "HEIF"}


def _store_image(
    storage: Storage, receiver: _Receiver, name: str, max_pixels: int, max_side: int
) -> StoredUpload:
    kind = receiver.content_type
    assert kind is not None
    if kind == HEIC:
        _register_heif()
    image = _decode(receiver.path, kind, max_pixels, max_side)
    extension = "png" if kind == PNG else "jpg"
    stored_type = PNG if kind == PNG else JPEG
    key = new_key(extension)
    thumb_key = thumbnail_key(key)
    main_path = new_temp_file(storage, suffix="." + extension)
    thumb_path = new_temp_file(storage, suffix=".jpg")
    try:
        if stored_type == PNG:
            image.save(main_path, "PNG", compress_level=6)
        else:
            _flatten(image).save(main_path, "JPEG", quality=88)
        _thumbnail(image).save(thumb_path, "JPEG", quality=80)
        size, digest = _hash_file(main_path)
        storage.put_file(key, main_path)
        try:
            storage.put_file(thumb_key, thumb_path)
        except BaseException:
            storage.delete(key)
            raise
    finally:
        main_path.unlink(missing_ok=True)
        thumb_path.unlink(missing_ok=True)
    return StoredUpload(
        key=key,
        thumbnail_key=thumb_key,
        content_type=stored_type,
        size=size,
        sha256=digest,
        original_content_type=kind,
        original_size=receiver.size,
        original_sha256=receiver.sha256,
        width=image.width,
        height=image.height,
        display_name=name,
    )


def _decode(path: Path, kind: str, max_pixels: int, max_side: int) -> Image.Image:
    """The upright pixels of the image, in a mode ready to encode, with no metadata."""
    try:
        # Pillow's own guard raises above twice Image.MAX_IMAGE_PIXELS while the header is
        # read; the explicit limit below is stricter and applies before any pixel is decoded.
        # (No warnings filter is changed here: that state is process-wide, not per thread.)
        with Image.open(path, formats=[_PIL_FORMATS[kind]]) as opened:
            width, height = opened.size
            if width * height > max_pixels:
                raise ImageTooLarge(
                    f"The image is {width}×{height} pixels; at most "
                    f"{max_pixels / 1_000_000:g} million pixels are accepted."
                )
            if kind == JPEG:
                scale = _jpeg_scale(width, height, max_side)
                if scale > 1:
                    # decoded at 1/scale by the JPEG decoder itself (the request is in the
                    # file's own orientation; the square bound makes that immaterial)
                    opened.draft("RGB", (width // scale, height // scale))
            opened.load()
            # upright, as a new image detached from the file (the orientation tag is read
            # from the EXIF whatever the scale the pixels were decoded at)
            image = _to_srgb(_upright(opened))
    except UploadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLarge("The image has too many pixels to be accepted.") from None
    except Exception as exc:
        # Decoders raise assorted errors on damaged or hostile input; all mean the same here.
        raise CorruptFile("The image could not be read; it may be damaged or incomplete.") from exc
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    # Nothing from the original file's metadata may reach the stored copy.
    image.info = {}
    return image


# EXIF orientation -> the transposition that turns the pixels upright (as ImageOps'
# exif_transpose, which also rewrites the copied metadata: dropped here anyway)
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _upright(opened: Image.Image) -> Image.Image:
    """The loaded image's pixels turned as its EXIF orientation says, in a new image."""
    method = _UPRIGHT.get(opened.getexif().get(ExifTags.Base.Orientation, 1))
    return opened.copy() if method is None else opened.transpose(method)


def _jpeg_scale(width: int, height: int, max_side: int) -> int:
    """The largest JPEG decoding scale (1, 2, 4 or 8) keeping the long side at least
    MIN_SIDE_SHARE of max_side, for an image longer than max_side; else 1."""
    side = max(width, height)
    if side <= max_side:
        return 1
    for scale in (8, 4, 2):
        if side / scale >= MIN_SIDE_SHARE * max_side:
            return scale
    return 1


def _to_srgb(image: Image.Image) -> Image.Image:
    """`image` (detached from its file) in a mode ready to encode, its colours in sRGB."""
    if "transparency" in image.info and image.mode in ("P", "L", "RGB"):
        # Transparency kept in metadata would be dropped with it: make it an alpha channel.
        image = image.convert("RGBA")
    elif image.mode == "P":
        image = image.convert("RGB")
    elif image.mode == "CMYK" or image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGB" if image.mode != "1" else "L")
    profile = image.info.get("icc_profile")
    if profile and image.mode in ("RGB", "RGBA"):
        # The profile is dropped with the other metadata, so bake its colours into sRGB
        # first; a phone's wide-gamut photo would otherwise look washed out.
        try:
            converted = ImageCms.profileToProfile(
                image,
                ImageCms.ImageCmsProfile(io.BytesIO(profile)),
                ImageCms.createProfile("sRGB"),
                outputMode=image.mode,
            )
        except (ImageCms.PyCMSError, OSError, ValueError):
            converted = None  # a broken profile: keep the pixel values as they are
        if converted is not None:
            image = converted
    return image


def _flatten(image: Image.Image) -> Image.Image:
    """RGB or L for JPEG, with any transparency laid over white."""
    if image.mode in ("RGB", "L"):
        return image
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _thumbnail(image: Image.Image) -> Image.Image:
    scale = min(1.0, THUMBNAIL_SIDE / image.width, THUMBNAIL_SIDE / image.height)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    # averaged over whole blocks of pixels first (Image.reduce), then bilinear over the
    # last step (less than a factor of two, where it is as clean as Lanczos): a clean
    # preview for a fraction of resampling the whole image with Lanczos
    return _flatten(image.resize(size, Image.Resampling.BILINEAR, reducing_gap=1.0))


def _hash_file(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK_SIZE):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


@functools.cache
def _register_heif() -> None:
    try:
        import pillow_heif
    except ImportError:  # pragma: no cover - pillow-heif is a declared dependency
        raise UnsupportedFileType("HEIC images cannot be read on this server.") from None
    pillow_heif.register_heif_opener()
