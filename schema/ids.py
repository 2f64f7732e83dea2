"""Database ids from the ids clients send: a relay global id of one type, or a plain integer."""

from __future__ import annotations

from strawberry import relay

# Primary keys are INTEGER columns: a larger number would overflow PostgreSQL's int4
# when bound to the query, so it is refused here as an unknown id.
MAX_PK = 2**31 - 1


def database_id(raw: str, type_name: str) -> int | None:
    """The primary key a global id of `type_name` (or a plain integer) names; None otherwise."""
    value = str(raw or "").strip()
    if value.isdigit():
        pk = int(value)
    else:
        try:
            gid = relay.GlobalID.from_id(value)
        except (relay.GlobalIDValueError, ValueError, TypeError, UnicodeDecodeError):
            return None
        if gid.type_name != type_name or not gid.node_id.isdigit():
            return None
        pk = int(gid.node_id)
    return pk if 0 < pk <= MAX_PK else None
