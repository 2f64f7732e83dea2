"""Database ids from the ids clients send: the one decoder lives in server/ids.py."""

from __future__ import annotations

from server.ids import MAX_PK, database_id

__all__ = ["MAX_PK", "database_id"]
