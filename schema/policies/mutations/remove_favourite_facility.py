from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from schema.accounts.auth import current_account, members
from schema.accounts.types import Viewer
from schema.context import Info
from schema.policies.inputs import FavouriteFacilityInput
from schema.policies.mutations._favourites import FavouritePayload, FavouritesSuccess


@FavouritePayload.resolver
def remove_favourite_facility(
    info: Info,
    input: Annotated[FavouriteFacilityInput, strawberry.argument(description="The facility.")],
) -> FavouritesSuccess:
    m, db = members(info)
    account = current_account(info)
    raw = str(input.facility_id)
    try:
        gid = relay.GlobalID.from_id(raw)
        plain = gid.node_id if gid.type_name == "Facility" else raw
    except relay.GlobalIDValueError:
        plain = raw
    # removal works for a facility that has since left the directory, too
    m.policies.remove_favourite(db, account, plain[:100])
    return FavouritesSuccess(viewer=Viewer(account=account))
