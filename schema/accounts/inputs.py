"""Inputs of the account and identity mutations."""

from __future__ import annotations

import datetime

import strawberry

from server.accounts.sms_codes import Purpose
from server.policies.models import IdType as IdTypeModel

SmsPurpose = strawberry.enum(
    Purpose,
    name="SmsPurpose",
    description="What an SMS code is for; a code works only for its purpose. VERIFY_IDENTITY codes are sent by verifyRealName itself, not by sendSmsCode.",
)
IdType = strawberry.enum(
    IdTypeModel,
    name="IdType",
    description="Identity document: RESIDENT_ID 居民身份证, PASSPORT 护照, HK_MACAO_PERMIT 港澳居民来往内地通行证, TAIWAN_PERMIT 台湾居民来往大陆通行证, FOREIGNER_PERMANENT_ID 外国人永久居留身份证.",
)


@strawberry.input(
    description="Ask for a 6-digit SMS code. CONFIRM_CLAIM and CHANGE_CONTACT codes go only to "
    "the signed-in account's own mobile (send its bearer token)."
)
class SendSmsCodeInput:
    mobile: str = strawberry.field(description="Mainland mobile number, 11 digits.")
    purpose: SmsPurpose = strawberry.field(description="What the code will be used for.")  # type: ignore[valid-type]


@strawberry.input(description="Create an account (注册).")
class RegisterInput:
    mobile: str = strawberry.field(description="Mainland mobile number, 11 digits.")
    password: str = strawberry.field(
        description="8-16 characters from at least two of: letters, digits, symbols."
    )
    sms_code: str = strawberry.field(description="The code sent for purpose REGISTER.")
    accept_terms: bool = strawberry.field(
        description="The user agreed to the terms (同意使用协议及条款)."
    )


@strawberry.input(description="Log in (登录) with mobile number and password.")
class LogInInput:
    mobile: str = strawberry.field(description="Mainland mobile number.")
    password: str = strawberry.field(description="The account's password.")


@strawberry.input(description="Set a new password (忘记密码); ends every session of the account.")
class ResetPasswordInput:
    mobile: str = strawberry.field(description="Mainland mobile number.")
    new_password: str = strawberry.field(
        description="The new password, same rule as at registration."
    )
    sms_code: str = strawberry.field(description="The code sent for purpose RESET_PASSWORD.")


@strawberry.input(description="Real-name verification (实名认证) with an identity document.")
class VerifyRealNameInput:
    id_type: IdType = strawberry.field(description="Kind of document.")  # type: ignore[valid-type]
    name: str = strawberry.field(description="Name as on the document.")
    id_number: str = strawberry.field(description="Document number.")
    valid_from: datetime.date = strawberry.field(description="First day the document is valid.")
    valid_to: datetime.date | None = strawberry.field(
        default=None, description="Last day the document is valid; null for long-term (长期)."
    )
    sms_code: str | None = strawberry.field(
        default=None,
        description="The code sent to the mobile on the policy record, after a SecondFactorRequiredError; leave out on the first call.",
    )


@strawberry.input(
    description="Bind the WeChat mini-program user to an insured identity (账号绑定)."
)
class BindWechatInput:
    login_code: str = strawberry.field(description="The code from the mini-program's wx.login().")
    name: str = strawberry.field(description="Name as on the document.")
    id_type: IdType = strawberry.field(description="Kind of document.")  # type: ignore[valid-type]
    id_number: str = strawberry.field(description="Document number.")
    mobile: str = strawberry.field(description="Mainland mobile number that received the code.")
    sms_code: str = strawberry.field(
        description="The code sent for purpose BIND_WECHAT. Unless this mobile's account holds the identity already, the mobile must be the one on the policy record."
    )


@strawberry.input(description="Sign in from the mini-program of a bound WeChat user.")
class LogInWithWechatInput:
    login_code: str = strawberry.field(description="The code from the mini-program's wx.login().")
