from __future__ import annotations

from schema.accounts.auth import bearer_token
from schema.accounts.mutations.log_out import LogOutSuccess
from schema.adjusters.auth import claims, current_adjuster
from schema.context import Info
from server.claims import adjusters


def adjuster_log_out(info: Info) -> LogOutSuccess:
    cx, db = claims(info)
    current_adjuster(info)  # an unknown or ended token is an authentication error
    token = bearer_token(info)
    assert token is not None
    adjusters.log_out(db, cx, token)
    return LogOutSuccess(ok=True)
