from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.auth import current_account, members
from schema.accounts.errors import WechatNotBoundError, error_payload
from schema.accounts.types import Viewer
from schema.context import Info
from server.errors import DomainError


@strawberry.type(description="The WeChat user is unbound; its mini-program sessions have ended.")
class UnbindWechatSuccess:
    viewer: Viewer = strawberry.field(description="The member.")


UnbindWechatPayload = Annotated[
    UnbindWechatSuccess | WechatNotBoundError,
    strawberry.union("UnbindWechatPayload", description="Result of unbindWechat."),
]


def unbind_wechat(info: Info) -> UnbindWechatPayload:
    m, db = members(info)
    account = current_account(info)
    try:
        m.identity.unbind_wechat(db, account)
    except DomainError as e:
        return error_payload(e, (WechatNotBoundError,))  # type: ignore[return-value]
    return UnbindWechatSuccess(viewer=Viewer(account=account))
