from __future__ import annotations

import asyncio
import hashlib
import io
import re
import struct
import tracemalloc
import zipfile
import zlib
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from PIL import Image, PngImagePlugin

from server.errors import DomainError
from server.storage import (
    ALL_TYPES,
    HEIC,
    IMAGE_TYPES,
    JPEG,
    PDF,
    PNG,
    CorruptFile,
    EmptyFile,
    FileTooLarge,
    ImageTooLarge,
    LocalStorage,
    QuotaExceeded,
    UnsupportedFileType,
    check_quota,
    display_name,
    store_upload,
    store_upload_async,
    uploads,
)
from server.storage.backend import KEY_PATTERN
from tests.heic import heic
from tests.heic import unavailable as heic_unavailable

MB = 1024 * 1024


T = TypeVar("T")


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a loop of its own thread: a browser test's sync Playwright
    session may already run an event loop in this thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def read_stored(storage: LocalStorage, key: str) -> bytes:
    stream = storage.open(key)
    try:
        return stream.read()
    finally:
        stream.close()


def assert_nothing_stored(storage: LocalStorage) -> None:
    assert [p for p in storage.root.rglob("*") if p.is_file()] == []


def chunked(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


# --- images -----------------------------------------------------------------------------


def test_jpeg_is_turned_upright_and_loses_its_exif(storage, samples):
    # given a landscape photo, red on the left and blue on the right, whose EXIF says
    # "rotate 90° clockwise to display" and carries a camera make and a GPS block
    image = Image.new("RGB", (120, 80), (255, 0, 0))
    image.paste((0, 0, 255), (60, 0, 120, 80))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW
    exif[0x010F] = "SpyCam Ltd"  # Make
    exif.get_ifd(0x8825)[2] = (31.0, 14.0, 0.0)  # GPS latitude
    uploaded = samples.jpeg(image, exif)
    assert b"SpyCam" in uploaded

    # when
    stored = store_upload(storage, chunked(uploaded, 1000), filename="invoice.jpg")

    # then it is stored upright (portrait, red on top) with no metadata at all
    assert stored.content_type == JPEG and stored.original_content_type == JPEG
    assert (stored.width, stored.height) == (80, 120)
    data = read_stored(storage, stored.key)
    assert b"SpyCam" not in data and b"Exif" not in data
    with Image.open(io.BytesIO(data)) as again:
        assert again.format == "JPEG"
        assert again.size == (80, 120)
        assert dict(again.getexif()) == {}
        assert "exif" not in again.info
        top = again.convert("RGB").getpixel((40, 10))
        bottom = again.convert("RGB").getpixel((40, 110))
    assert top[0] > 200 and top[2] < 60
    assert bottom[2] > 200 and bottom[0] < 60

    # and the hashes describe the uploaded and the stored bytes
    assert stored.original_sha256 == hashlib.sha256(uploaded).hexdigest()
    assert stored.original_size == len(uploaded)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.size == len(data)
    assert stored.display_name == "invoice.jpg"
    assert KEY_PATTERN.fullmatch(stored.key) and "invoice" not in stored.key


def test_thumbnail_is_a_small_jpeg(storage, samples):
    stored = store_upload(storage, samples.jpeg(samples.noise(1000, 500)))
    assert stored.thumbnail_key is not None and storage.exists(stored.thumbnail_key)
    with Image.open(io.BytesIO(read_stored(storage, stored.thumbnail_key))) as thumb:
        assert thumb.format == "JPEG"
        assert thumb.size == (320, 160)


def test_png_keeps_its_format_and_transparency_but_not_its_text(storage):
    image = Image.new("RGBA", (50, 30), (0, 128, 0, 255))
    image.paste((0, 0, 0, 0), (0, 0, 10, 30))
    meta = PngImagePlugin.PngInfo()
    meta.add_text("Author", "Zhang San 13800138000")
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=meta)

    stored = store_upload(storage, io.BytesIO(out.getvalue()), filename="scan.png")

    assert stored.content_type == PNG and stored.key.endswith(".png")
    data = read_stored(storage, stored.key)
    assert b"Zhang San" not in data and b"13800138000" not in data
    with Image.open(io.BytesIO(data)) as again:
        assert again.size == (50, 30) and again.mode == "RGBA"
        assert again.getpixel((0, 0))[3] == 0
        assert again.getpixel((40, 10)) == (0, 128, 0, 255)
        assert not getattr(again, "text", {})


def test_heic_is_stored_as_jpeg(storage):
    stored = store_upload(storage, heic(), filename="IMG_0001.HEIC")

    assert stored.original_content_type == HEIC
    assert stored.content_type == JPEG and stored.key.endswith(".jpg")
    with Image.open(io.BytesIO(read_stored(storage, stored.key))) as again:
        assert again.format == "JPEG" and again.size == (64, 48)
        r, g, b = again.getpixel((30, 20))
    assert g > 150 and r < 80 and b < 80


def test_missing_heic_support_fails_when_required_and_skips_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REQUIRE_HEIC", "1")
    with pytest.raises(pytest.fail.Exception, match="HEIC tests are required"):
        heic_unavailable("no pillow-heif")
    monkeypatch.delenv("REQUIRE_HEIC")
    with pytest.raises(pytest.skip.Exception):
        heic_unavailable("no pillow-heif")


def test_a_large_image_is_scaled_down_to_the_longest_side(storage, samples):
    stored = store_upload(storage, samples.jpeg(samples.noise(900, 300)), max_side=300)
    assert (stored.width, stored.height) == (300, 100)


def test_too_many_pixels_are_refused(storage, samples):
    with pytest.raises(ImageTooLarge) as caught:
        store_upload(storage, samples.jpeg(samples.noise(200, 200)), max_pixels=10_000)
    assert caught.value.code == "IMAGE_TOO_LARGE"
    assert "200×200" in caught.value.message
    assert_nothing_stored(storage)


def test_a_decompression_bomb_is_refused_before_decoding(storage):
    # given a tiny PNG whose header claims a 100000 × 100000 canvas
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload))
            + kind
            + payload
            + struct.pack(">I", zlib.crc32(kind + payload))
        )

    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + chunk(b"IEND", b"")
    )
    assert len(bomb) < 200

    with pytest.raises(ImageTooLarge):
        store_upload(storage, bomb, max_pixels=10**12)
    assert_nothing_stored(storage)


def test_truncated_jpeg_is_corrupt(storage, samples):
    whole = samples.jpeg(samples.noise(300, 300))
    with pytest.raises(CorruptFile) as caught:
        store_upload(storage, whole[: len(whole) // 2], filename="photo.jpg")
    assert caught.value.code == "CORRUPT_FILE"
    assert_nothing_stored(storage)


def test_png_signature_with_garbage_is_corrupt(storage):
    with pytest.raises(CorruptFile):
        store_upload(storage, b"\x89PNG\r\n\x1a\n" + b"garbage" * 100)


# --- PDF --------------------------------------------------------------------------------


def test_pdf_is_kept_byte_for_byte(storage, samples):
    pdf = samples.pdf()
    stored = store_upload(storage, chunked(pdf, 100), filename="发票.pdf")
    assert stored.content_type == PDF and stored.key.endswith(".pdf")
    assert stored.thumbnail_key is None and stored.width is None and not stored.is_image
    assert read_stored(storage, stored.key) == pdf
    assert stored.sha256 == stored.original_sha256 == hashlib.sha256(pdf).hexdigest()
    assert stored.display_name == "发票.pdf"


def test_pdf_without_end_marker_is_corrupt(storage, samples):
    pdf = samples.pdf(padding=5000)
    with pytest.raises(CorruptFile):
        store_upload(storage, pdf[:3000])
    assert_nothing_stored(storage)


def test_jpg_name_with_pdf_content_is_a_pdf(storage, samples):
    stored = store_upload(storage, samples.pdf(), filename="receipt.jpg")
    assert stored.content_type == PDF and stored.key.endswith(".pdf")
    assert stored.display_name == "receipt.jpg"


def test_pdf_is_refused_where_only_images_are_allowed(storage, samples):
    with pytest.raises(UnsupportedFileType) as caught:
        store_upload(storage, samples.pdf(), filename="signature.jpg", allowed=IMAGE_TYPES)
    assert caught.value.code == "UNSUPPORTED_FILE_TYPE"
    assert "PDF" in caught.value.message
    assert_nothing_stored(storage)


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("a.txt", "hello")
    return out.getvalue()


@pytest.mark.parametrize(
    "content",
    [
        b"#!/bin/sh\nrm -rf / --no-preserve-root\n",
        b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>",
        b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
        _zip(),
        b"GIF89a" + b"\0" * 100,
        b"MZ\x90\0" + b"\0" * 300,
    ],
    ids=["shell", "html", "svg", "zip", "gif", "exe"],
)
def test_other_content_named_jpg_is_refused(storage, content):
    with pytest.raises(UnsupportedFileType) as caught:
        store_upload(storage, content, filename="photo.jpg")
    assert isinstance(caught.value, DomainError)
    assert caught.value.field == "file"
    assert_nothing_stored(storage)


def test_refused_type_stops_reading_early(storage):
    consumed = 0

    def html() -> Iterator[bytes]:
        nonlocal consumed
        for _ in range(100):
            consumed += 1
            yield b"<html>" + b"x" * 4090

    with pytest.raises(UnsupportedFileType):
        store_upload(storage, html())
    assert consumed == 1


# --- size -------------------------------------------------------------------------------


def test_eleven_megabytes_are_refused_early(storage, samples):
    # given an 11 MB stream that looks like a PDF
    total = 11 * MB
    chunk = b"%PDF-1.4\n" + b"x" * (64 * 1024 - 9)
    produced = 0
    temp_seen: list[Path] = []

    def stream() -> Iterator[bytes]:
        nonlocal produced
        while produced < total:
            produced += len(chunk)
            temp_seen.extend(storage.temp_dir.iterdir())
            yield chunk

    # when / then
    with pytest.raises(FileTooLarge) as caught:
        store_upload(storage, stream(), filename="big.pdf")
    assert caught.value.code == "FILE_TOO_LARGE"
    assert "10 MB" in caught.value.message
    assert temp_seen, "the stream was written to a temporary file"
    assert not any(p.exists() for p in temp_seen)
    assert produced <= 10 * MB + len(chunk) < total
    assert_nothing_stored(storage)


def test_file_like_source_is_not_read_past_the_limit(storage):
    source = io.BytesIO(b"\xff\xd8\xff" + b"\0" * (11 * MB))
    with pytest.raises(FileTooLarge):
        store_upload(storage, source, max_bytes=10 * MB)
    assert source.tell() <= 10 * MB + 64 * 1024


def test_a_single_oversized_chunk_is_refused(storage, samples):
    with pytest.raises(FileTooLarge):
        store_upload(storage, samples.pdf(padding=2000), max_bytes=1000)
    assert_nothing_stored(storage)


@pytest.mark.parametrize("source", [b"", iter([]), iter([b"", b""]), io.BytesIO()])
def test_empty_file_is_refused(storage, source):
    with pytest.raises(EmptyFile) as caught:
        store_upload(storage, source)
    assert caught.value.code == "EMPTY_FILE"
    assert_nothing_stored(storage)


def test_streaming_nine_megabytes_does_not_hold_the_file(storage):
    size = 9 * MB
    chunk = b"x" * (64 * 1024)
    head = b"%PDF-1.7\n" + chunk[9:]
    tail = b"\nstartxref\n0\n%%EOF\n"

    def stream() -> Iterator[bytes]:
        yield head
        for _ in range(size // len(chunk) - 1):
            yield chunk
        yield tail

    tracemalloc.start()
    try:
        stored = store_upload(storage, stream())
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stored.size == size + len(tail)
    assert peak < 1 * MB, f"peak {peak} bytes while streaming {size} bytes"


# --- names ------------------------------------------------------------------------------


def test_traversal_name_is_only_a_display_name(tmp_path, storage, samples):
    stored = store_upload(storage, samples.pdf(), filename="../../etc/passwd")
    assert stored.display_name == "passwd"
    assert KEY_PATTERN.fullmatch(stored.key)
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and storage.root not in p.parents]
    assert outside == []
    assert storage.path_of(stored.key).is_relative_to(storage.root / "objects")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\Desktop\\发票 1.jpg", "发票 1.jpg"),
        ("..", "upload"),
        ("", "upload"),
        (None, "upload"),
        ("a\x00b\nc.pdf", "abc.pdf"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ('<script>"x"|?.png', "_script__x___.png"),
        ("  .hidden.  ", "hidden"),
    ],
)
def test_display_name_is_sanitised(name, expected):
    assert display_name(name) == expected


def test_long_display_name_keeps_its_extension():
    name = display_name("报销" * 80 + ".jpeg")
    assert len(name) == 100 and name.endswith(".jpeg")
    assert len(display_name("x" * 300)) == 100


# --- async and quota --------------------------------------------------------------------


def test_async_chunk_stream(storage, samples):
    pdf = samples.pdf()

    async def chunks() -> AsyncIterator[bytes]:
        for part in chunked(pdf, 50):
            yield part

    stored = run_async(store_upload_async(storage, chunks(), filename="a.pdf"))
    assert read_stored(storage, stored.key) == pdf


def test_async_readable_like_an_upload_file(storage, samples):
    class Upload:
        def __init__(self, data: bytes) -> None:
            self.file = io.BytesIO(data)

        async def read(self, size: int = -1) -> bytes:
            return self.file.read(size)

    data = samples.jpeg(samples.noise(40, 40))
    stored = run_async(store_upload_async(storage, Upload(data), filename="x.jpg"))
    assert (
        stored.content_type == JPEG and stored.original_sha256 == hashlib.sha256(data).hexdigest()
    )


def test_async_refusal_leaves_nothing(storage):
    async def chunks() -> AsyncIterator[bytes]:
        yield b"PK\x03\x04" + b"\0" * 300

    with pytest.raises(UnsupportedFileType):
        run_async(store_upload_async(storage, chunks()))
    assert_nothing_stored(storage)


def test_check_quota():
    check_quota(used_bytes=15 * MB, new_bytes=5 * MB, cap=20 * MB)
    with pytest.raises(QuotaExceeded) as caught:
        check_quota(used_bytes=15 * MB, new_bytes=5 * MB + 1, cap=20 * MB)
    assert caught.value.code == "QUOTA_EXCEEDED"
    assert re.search(r"20 MB", caught.value.message)


def test_all_types_are_the_four_accepted_ones():
    assert frozenset({JPEG, PNG, HEIC, PDF}) == ALL_TYPES


def test_palette_png_transparency_becomes_alpha(storage):
    image = Image.new("P", (20, 10), 1)
    image.putpalette([255, 255, 255, 200, 0, 0] + [0] * 762)
    image.paste(0, (0, 0, 5, 10))
    out = io.BytesIO()
    image.save(out, "PNG", transparency=0)

    stored = store_upload(storage, out.getvalue())

    with Image.open(io.BytesIO(read_stored(storage, stored.key))) as again:
        assert again.mode == "RGBA"
        assert again.getpixel((1, 1))[3] == 0
        assert again.getpixel((10, 5)) == (200, 0, 0, 255)


def test_cmyk_jpeg_with_icc_profile_is_stored_as_plain_rgb(storage):
    from PIL import ImageCms

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    Image.new("CMYK", (30, 30), (0, 255, 255, 0)).save(out, "JPEG", icc_profile=srgb)
    rgb = io.BytesIO()
    Image.new("RGB", (30, 30), (0, 200, 0)).save(rgb, "JPEG", icc_profile=srgb)

    for data in (out.getvalue(), rgb.getvalue()):
        stored = store_upload(storage, data)
        with Image.open(io.BytesIO(read_stored(storage, stored.key))) as again:
            assert again.mode == "RGB"
            assert "icc_profile" not in again.info


# --- large photos: decoded at a reduced scale --------------------------------------------


def _quadrants(width: int, height: int) -> Image.Image:
    """Red top left, green top right, blue bottom left, white bottom right."""
    image = Image.new("RGB", (width, height), (255, 255, 255))
    image.paste((255, 0, 0), (0, 0, width // 2, height // 2))
    image.paste((0, 255, 0), (width // 2, 0, width, height // 2))
    image.paste((0, 0, 255), (0, height // 2, width // 2, height))
    return image


def _colour(image: Image.Image, x: float, y: float) -> str:
    r, g, b = image.convert("RGB").getpixel((int(x * image.width), int(y * image.height)))
    return {(1, 0, 0): "red", (0, 1, 0): "green", (0, 0, 1): "blue", (1, 1, 1): "white"}[
        (r > 128, g > 128, b > 128)
    ]


def test_a_phone_photo_is_decoded_at_half_scale_upright_and_without_exif(storage, samples):
    # given a 12-megapixel photo (4032×3024, as a phone takes it) whose EXIF says
    # "rotate 90° clockwise to display" and names the camera
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "SpyCam Ltd"
    exif.get_ifd(0x8825)[2] = (31.0, 14.0, 0.0)
    uploaded = samples.jpeg(_quadrants(4032, 3024), exif)

    # when
    stored = store_upload(storage, uploaded)

    # then it is stored at half its size (the decoder's 1/2 scale, no resampling), upright
    assert (stored.width, stored.height) == (1512, 2016)
    data = read_stored(storage, stored.key)
    assert b"SpyCam" not in data and b"Exif" not in data
    with Image.open(io.BytesIO(data)) as again:
        assert again.size == (1512, 2016)
        assert dict(again.getexif()) == {}
        # turned 90° clockwise: the old bottom left (blue) is now the top left
        assert _colour(again, 0.25, 0.25) == "blue"
        assert _colour(again, 0.75, 0.25) == "red"
        assert _colour(again, 0.25, 0.75) == "white"
        assert _colour(again, 0.75, 0.75) == "green"
    # and so is its thumbnail, without EXIF either
    assert stored.thumbnail_key is not None
    thumb_data = read_stored(storage, stored.thumbnail_key)
    assert b"SpyCam" not in thumb_data and b"Exif" not in thumb_data
    with Image.open(io.BytesIO(thumb_data)) as thumb:
        assert thumb.format == "JPEG"
        assert thumb.size == (240, 320)
        assert _colour(thumb, 0.25, 0.25) == "blue"
        assert _colour(thumb, 0.75, 0.75) == "green"


def test_the_stored_photo_has_the_promised_quality(storage, samples):
    # given
    uploaded = samples.jpeg(samples.noise(2400, 1800), quality=95)
    reference = io.BytesIO()
    Image.new("RGB", (8, 8)).save(reference, "JPEG", quality=88)
    # when
    stored = store_upload(storage, uploaded)
    # then: JPEG at quality 88 (the same quantization tables), long side at most 2048
    assert (stored.width, stored.height) == (2048, 1536)
    with (
        Image.open(io.BytesIO(read_stored(storage, stored.key))) as again,
        Image.open(reference) as expected,
    ):
        assert again.quantization == expected.quantization


@pytest.mark.parametrize(
    ("size", "max_side", "scale"),
    [
        ((4000, 3000), 2048, 2),  # 2000: no resampling
        ((4032, 3024), 2048, 2),
        ((8064, 6048), 2048, 4),  # a 48-megapixel photo
        ((3000, 2000), 2048, 1),  # half would be under 90 % of 2048: full, then resampled
        ((2048, 1536), 2048, 1),  # not larger than the bound
        ((800, 600), 2048, 1),
        ((1600, 1200), 800, 2),
    ],
)
def test_the_jpeg_decoding_scale_keeps_nine_tenths_of_the_bound(size, max_side, scale):
    assert uploads._jpeg_scale(*size, max_side) == scale
    long_side = max(size) / scale
    assert long_side >= min(max(size), 0.9 * max_side)


def test_a_photo_between_the_scales_is_resampled_to_the_bound(storage, samples):
    stored = store_upload(storage, samples.jpeg(_quadrants(3000, 2000)))
    assert (stored.width, stored.height) == (2048, 1365)
