from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.auth import members
from schema.accounts.errors import WechatCodeInvalidError, WechatNotBoundError, error_payload
from schema.accounts.inputs import LogInWithWechatInput
from schema.accounts.types import SignInSuccess, Viewer
from schema.context import Info
from server.errors import DomainError

LogInWithWechatPayload = Annotated[
    SignInSuccess | WechatNotBoundError | WechatCodeInvalidError,
    strawberry.union("LogInWithWechatPayload", description="Result of logInWithWechat."),
]


def log_in_with_wechat(
    info: Info,
    input: Annotated[LogInWithWechatInput, strawberry.argument(description="The wx.login() code.")],
) -> LogInWithWechatPayload:
    m, db = members(info)
    try:
        signed = m.identity.wechat_login(db, input.login_code)
    except DomainError as e:
        return error_payload(e, (WechatNotBoundError, WechatCodeInvalidError))  # type: ignore[return-value]
    info.context.account = signed.account
    return SignInSuccess(
        token=signed.token, expires_at=signed.expires_at, viewer=Viewer(account=signed.account)
    )
