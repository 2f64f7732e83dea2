"""QR codes that open the English quick-lookup pages (seed §9.9)."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import segno

# The English pages a QR code may open: the seed prints codes for the two direct-billing
# lists (§9.9); the designated list gets one too, for the same foreign clients.
QR_KINDS = ("medical", "dental", "designated")


def page_url(base_url: str, kind: str) -> str:
    return f"{base_url.rstrip('/')}/h5/en/{kind}"


def _code(base_url: str, kind: str) -> segno.QRCode:
    if kind not in QR_KINDS:
        raise ValueError(f"no QR code for {kind!r}")
    # "M" survives a scuffed print and keeps the code small for a short URL
    return segno.make_qr(page_url(base_url, kind), error="m")


@lru_cache(maxsize=16)
def svg(base_url: str, kind: str) -> bytes:
    out = io.BytesIO()
    _code(base_url, kind).save(
        out, kind="svg", scale=8, border=4, xmldecl=True, title=f"QR: {page_url(base_url, kind)}"
    )
    return out.getvalue()


@lru_cache(maxsize=16)
def png(base_url: str, kind: str) -> bytes:
    out = io.BytesIO()
    _code(base_url, kind).save(out, kind="png", scale=10, border=4)
    return out.getvalue()


def write_all(base_url: str, folder: Path) -> list[Path]:
    """Write en-<kind>.svg and en-<kind>.png for every QR page into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in QR_KINDS:
        for ext, data in (("svg", svg(base_url, kind)), ("png", png(base_url, kind))):
            path = folder / f"en-{kind}.{ext}"
            path.write_bytes(data)
            written.append(path)
    return written
