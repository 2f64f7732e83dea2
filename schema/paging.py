"""Opaque cursors for offset paging."""

from __future__ import annotations

import base64
import binascii

from server.errors import InvalidInput

_PREFIX = "o:"


def offset_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{offset}".encode()).decode().rstrip("=")


def cursor_offset(cursor: str | None) -> int:
    """The offset *after* the cursor's row (0 when there is no cursor)."""
    if cursor is None:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith(_PREFIX):
            raise ValueError(raw)
        offset = int(raw[len(_PREFIX) :])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("'after' is not a cursor this API gave out.", field="after") from None
    if offset < 0 or offset > 10_000_000:
        raise InvalidInput("'after' is not a cursor this API gave out.", field="after")
    return offset + 1
