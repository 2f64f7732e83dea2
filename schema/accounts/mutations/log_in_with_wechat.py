from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.auth import members
from schema.accounts.errors import WechatCodeInvalidError, WechatNotBoundError
from schema.accounts.inputs import LogInWithWechatInput
from schema.accounts.types import SignInSuccess, Viewer
from schema.context import Info
from schema.results import ResultUnion

LogInWithWechatPayload = ResultUnion(
    "LogInWithWechatPayload",
    SignInSuccess,
    WechatNotBoundError,
    WechatCodeInvalidError,
    description="Result of logInWithWechat.",
)


@LogInWithWechatPayload.resolver
def log_in_with_wechat(
    info: Info,
    input: Annotated[LogInWithWechatInput, strawberry.argument(description="The wx.login() code.")],
) -> SignInSuccess:
    m, db = members(info)
    signed = m.identity.wechat_login(db, input.login_code)
    info.context.account = signed.account
    return SignInSuccess(
        token=signed.token, expires_at=signed.expires_at, viewer=Viewer(account=signed.account)
    )
