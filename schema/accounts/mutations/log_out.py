from __future__ import annotations

import strawberry

from schema.accounts.auth import bearer_token, current_account, members
from schema.context import Info


@strawberry.type(description="The session has ended.")
class LogOutSuccess:
    ok: bool = strawberry.field(description="Always true.")


def log_out(info: Info) -> LogOutSuccess:
    m, db = members(info)
    current_account(info)  # an unknown or ended token is an authentication error
    token = bearer_token(info)
    assert token is not None
    m.accounts.logout(db, token)
    return LogOutSuccess(ok=True)
