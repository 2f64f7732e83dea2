from __future__ import annotations

import io
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from server.storage import LocalStorage


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "store")


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.fixture
def stored_files() -> Callable[[Path], list[Path]]:
    return files_under


class Samples:
    """Real files made with Pillow or by hand, for the upload tests."""

    @staticmethod
    def jpeg(image: Image.Image, exif: Image.Exif | None = None, quality: int = 90) -> bytes:
        out = io.BytesIO()
        if exif is None:
            image.save(out, "JPEG", quality=quality)
        else:
            image.save(out, "JPEG", quality=quality, exif=exif)
        return out.getvalue()

    @staticmethod
    def noise(width: int, height: int, seed: int = 7) -> Image.Image:
        rng = random.Random(seed)
        return Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))

    @staticmethod
    def pdf(padding: int = 0) -> bytes:
        """A small well-formed one-page PDF, optionally padded with a comment line."""
        body = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
        objects = [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        ]
        offsets = []
        for number, obj in enumerate(objects, start=1):
            offsets.append(len(body))
            body += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
        if padding:
            body += b"%" + b"x" * padding + b"\n"
        xref = len(body)
        body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        body += b"".join(b"%010d 00000 n \n" % off for off in offsets)
        body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
            len(objects) + 1,
            xref,
        )
        return body


@pytest.fixture
def samples() -> type[Samples]:
    return Samples
