"""What both favourite mutations share: resolving the id and the payload."""

from __future__ import annotations

import strawberry
from strawberry import relay

from schema.accounts.errors import FacilityNotFoundError, ValidationError
from schema.accounts.types import Viewer
from schema.context import Info
from schema.results import ResultUnion


@strawberry.type(description="The favourites have changed.")
class FavouritesSuccess:
    viewer: Viewer = strawberry.field(description="The member; read `favouriteFacilities`.")


FavouritePayload = ResultUnion(
    "FavouritePayload",
    FavouritesSuccess,
    FacilityNotFoundError,
    ValidationError,
    description="Result of a favourites change.",
)


def directory_id(info: Info, raw: str) -> str | None:
    """The plain directory id for a global or plain id, or None when it names no facility."""
    try:
        gid = relay.GlobalID.from_id(raw)
        if gid.type_name != "Facility":
            return None
        plain = gid.node_id
    except relay.GlobalIDValueError:
        plain = raw
    if len(plain) > 100:
        return None
    return plain if info.context.services.directory.get(plain) is not None else None
