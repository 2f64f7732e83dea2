from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.auth import current_account, members
from schema.accounts.types import Viewer
from schema.context import Info
from schema.policies.inputs import FavouriteFacilityInput
from schema.policies.mutations._favourites import FavouritePayload, FavouritesSuccess, directory_id


@FavouritePayload.resolver
def add_favourite_facility(
    info: Info,
    input: Annotated[FavouriteFacilityInput, strawberry.argument(description="The facility.")],
) -> FavouritesSuccess:
    m, db = members(info)
    account = current_account(info)
    plain = directory_id(info, str(input.facility_id))
    m.policies.add_favourite(db, account, plain or "", exists=plain is not None)
    return FavouritesSuccess(viewer=Viewer(account=account))
