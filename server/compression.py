"""Content coding for HTTP answers: which one a client takes (br, gzip) and the bytes.

Shared by api/http_cache.py (the middleware) and schema/response_cache.py (cached GraphQL
answers kept compressed once per coding).
"""

from __future__ import annotations

import gzip

import brotli

MINIMUM = 500  # bytes: below this compression saves less than its headers cost
BROTLI_QUALITY = 5  # dynamic answers: within a few per cent of 11's size, far faster
GZIP_LEVEL = 6

__all__ = ["BROTLI_QUALITY", "GZIP_LEVEL", "MINIMUM", "choose", "compress"]


def choose(accept_encoding: str) -> str | None:
    """ "br", "gzip" or None from an Accept-Encoding header (q-values honoured)."""
    weights: dict[str, float] = {}
    for part in accept_encoding.lower().split(","):
        name, _, params = part.strip().partition(";")
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        if name:
            weights[name] = q
    star = weights.get("*", 0.0)
    best = None
    for coding in ("br", "gzip"):
        q = weights.get(coding, star)
        if q > 0 and (best is None or q > best[1]):
            best = (coding, q)
    return best[0] if best else None


def compress(body: bytes, coding: str) -> bytes:
    if coding == "br":
        return bytes(brotli.compress(body, quality=BROTLI_QUALITY))
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
