from __future__ import annotations

import strawberry

from schema.accounts.auth import current_account, members
from schema.accounts.errors import WechatNotBoundError
from schema.accounts.types import Viewer
from schema.context import Info
from schema.results import ResultUnion


@strawberry.type(description="The WeChat user is unbound; its mini-program sessions have ended.")
class UnbindWechatSuccess:
    viewer: Viewer = strawberry.field(description="The member.")


UnbindWechatPayload = ResultUnion(
    "UnbindWechatPayload",
    UnbindWechatSuccess,
    WechatNotBoundError,
    description="Result of unbindWechat.",
)


@UnbindWechatPayload.resolver
def unbind_wechat(info: Info) -> UnbindWechatSuccess:
    m, db = members(info)
    account = current_account(info)
    m.identity.unbind_wechat(db, account)
    return UnbindWechatSuccess(viewer=Viewer(account=account))
