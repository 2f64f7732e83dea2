"""HEIC samples for the upload tests.

pillow-heif is a dependency of the server (phones upload HEIC), so where it cannot write
HEIC the tests skip locally and fail when REQUIRE_HEIC=1 (as CI sets it).
"""

from __future__ import annotations

import io
import os
from typing import NoReturn

import pytest
from PIL import Image


def unavailable(reason: str) -> NoReturn:
    if os.environ.get("REQUIRE_HEIC") == "1":
        pytest.fail(f"HEIC tests are required but cannot run: {reason}")
    pytest.skip(reason)


def heic(size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = (10, 200, 10)) -> bytes:
    """A HEIC photo of one colour."""
    try:
        import pillow_heif
    except ImportError as e:
        unavailable(f"pillow-heif is not installed: {e}")
    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    try:
        Image.new("RGB", size, color).save(out, "HEIF", quality=90)
    except (OSError, KeyError, ValueError) as e:
        unavailable(f"this pillow-heif build cannot write HEIC: {e}")
    return out.getvalue()
