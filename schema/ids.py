"""Database ids from the ids clients send: the one decoder lives in server/ids.py."""

from __future__ import annotations

from server.ids import MAX_PK, database_id

__all__ = ["MAX_PK", "database_id", "key_of"]


def key_of(raw: str, type_name: str, not_found: Exception) -> int:
    """The primary key a global id (or a bare integer id) names for `type_name`; an id of
    another type, malformed or out of range raises `not_found`, the same error a missing
    row gives, so that a caller learns nothing from the id's shape."""
    pk = database_id(raw, type_name)
    if pk is None:
        raise not_found
    return pk
