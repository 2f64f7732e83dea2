"""Policy-side mutations: 我的收藏."""

from __future__ import annotations

import strawberry

from schema.policies.mutations.add_favourite_facility import add_favourite_facility
from schema.policies.mutations.remove_favourite_facility import remove_favourite_facility


@strawberry.type
class PoliciesMutation:
    add_favourite_facility = strawberry.mutation(
        resolver=add_favourite_facility, description="Star a facility (我的收藏)."
    )
    remove_favourite_facility = strawberry.mutation(
        resolver=remove_favourite_facility, description="Unstar a facility."
    )
