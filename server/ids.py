"""Ids as clients send them: a relay global id of one type, or a plain integer.

A global id is base64 of "TypeName:key" (as GraphQL hands it out); decoding it needs no
GraphQL library, so the HTTP endpoints and the GraphQL schema share this one decoder.
"""

from __future__ import annotations

import base64
import binascii

# Primary keys are INTEGER columns: a larger number would overflow PostgreSQL's int4
# when bound to the query, so it is refused here as an unknown id.
MAX_PK = 2**31 - 1


def global_id(type_name: str, pk: int | str) -> str:
    """The relay global id of a row (what GraphQL shows as its `id`)."""
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode("ascii")


def database_id(raw: str, type_name: str) -> int | None:
    """The primary key a global id of `type_name` (or a plain integer) names; None otherwise."""
    value = str(raw or "").strip()
    if _digits(value):
        pk = int(value)
    else:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            return None
        name, colon, node = decoded.partition(":")
        if not colon or name != type_name or not _digits(node):
            return None
        pk = int(node)
    return pk if 0 < pk <= MAX_PK else None


def _digits(text: str) -> bool:
    # ASCII only: str.isdigit() also accepts "²" and other digits int() refuses
    return text.isascii() and text.isdigit()
