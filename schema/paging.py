"""Opaque cursors for offset paging, and the PageInfo every connection carries."""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Sequence
from typing import Protocol

import strawberry

from server.errors import InvalidInput

_PREFIX = "o:"


class _Edge(Protocol):
    @property
    def cursor(self) -> str: ...


@strawberry.type(description="Where a result list stands.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More rows follow `endCursor`.")
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last row; null for an empty page."
    )

    @classmethod
    def of(cls, edges: Sequence[_Edge], *, has_next: bool) -> PageInfo:
        """The page info of a page of `edges`."""
        return cls(has_next_page=has_next, end_cursor=edges[-1].cursor if edges else None)


@functools.lru_cache(maxsize=4096)  # a page's rows have the same few offsets every time
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
