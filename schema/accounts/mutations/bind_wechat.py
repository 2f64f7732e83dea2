from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.auth import client_address, members
from schema.accounts.errors import (
    IdentityNotInsuredError,
    IdentityTakenError,
    MobileNotOnRecordError,
    NoMobileOnRecordError,
    RealNameLockedError,
    SmsCodeInvalidError,
    ValidationError,
    WechatAlreadyBoundError,
    WechatCodeInvalidError,
)
from schema.accounts.inputs import BindWechatInput
from schema.accounts.types import SignInSuccess, Viewer
from schema.context import Info
from schema.results import ResultUnion

BindWechatPayload = ResultUnion(
    "BindWechatPayload",
    SignInSuccess,
    ValidationError,
    RealNameLockedError,
    SmsCodeInvalidError,
    IdentityNotInsuredError,
    IdentityTakenError,
    MobileNotOnRecordError,
    NoMobileOnRecordError,
    WechatAlreadyBoundError,
    WechatCodeInvalidError,
    description="Result of bindWechat.",
)


@BindWechatPayload.resolver
def bind_wechat(
    info: Info,
    input: Annotated[BindWechatInput, strawberry.argument(description="Login code and identity.")],
) -> SignInSuccess:
    m, db = members(info)
    signed = m.identity.bind_wechat(
        db,
        login_code=input.login_code,
        name=input.name,
        id_type=input.id_type,
        id_number=input.id_number,
        mobile=input.mobile,
        sms_code=input.sms_code,
        client=client_address(info),
    )
    info.context.account = signed.account
    return SignInSuccess(
        token=signed.token, expires_at=signed.expires_at, viewer=Viewer(account=signed.account)
    )
