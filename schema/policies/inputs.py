"""Inputs of the policy-side mutations."""

from __future__ import annotations

import strawberry


@strawberry.input(description="A facility for 我的收藏.")
class FavouriteFacilityInput:
    facility_id: strawberry.ID = strawberry.field(
        description="The facility's global id (`Facility.id`) or its plain `sourceId`."
    )
