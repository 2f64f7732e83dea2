"""The signed-in member's entry point."""

from __future__ import annotations

import strawberry

from schema.accounts.auth import current_account
from schema.accounts.types import Viewer
from schema.context import Info


@strawberry.type
class AccountsQuery:
    @strawberry.field(
        description="The signed-in member (needs `Authorization: Bearer <token>`; UNAUTHENTICATED otherwise)."
    )
    def viewer(self, info: Info) -> Viewer:
        return Viewer(account=current_account(info))
