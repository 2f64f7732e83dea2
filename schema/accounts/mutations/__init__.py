"""The account and identity mutations, one module each."""

from __future__ import annotations

import strawberry

from schema.accounts.mutations.bind_wechat import bind_wechat
from schema.accounts.mutations.log_in import log_in
from schema.accounts.mutations.log_in_with_wechat import log_in_with_wechat
from schema.accounts.mutations.log_out import log_out
from schema.accounts.mutations.register_account import register_account
from schema.accounts.mutations.reset_password import reset_password
from schema.accounts.mutations.send_sms_code import send_sms_code
from schema.accounts.mutations.unbind_wechat import unbind_wechat
from schema.accounts.mutations.verify_real_name import verify_real_name


@strawberry.type
class AccountsMutation:
    send_sms_code = strawberry.mutation(
        resolver=send_sms_code,
        description="Send a 6-digit SMS code (valid 5 minutes, resend after 120 s, 5 an hour).",
    )
    register = strawberry.mutation(
        resolver=register_account, description="Create an account and sign in (注册)."
    )
    log_in = strawberry.mutation(resolver=log_in, description="Sign in with mobile and password.")
    log_out = strawberry.mutation(resolver=log_out, description="End the current session.")
    reset_password = strawberry.mutation(
        resolver=reset_password,
        description="Set a new password with an SMS code (忘记密码); ends all sessions.",
    )
    verify_real_name = strawberry.mutation(
        resolver=verify_real_name,
        description="Real-name verification (实名认证): the identity must be an insured member, confirmed by the mobile number on the policy record (the account's own, or a code sent there). 5 tries a day per account and per identity, 20 per address.",
    )
    bind_wechat = strawberry.mutation(
        resolver=bind_wechat,
        description="Bind a WeChat mini-program user to an insured identity and sign in; the mobile must be the one on the policy record unless its account holds the identity already.",
    )
    log_in_with_wechat = strawberry.mutation(
        resolver=log_in_with_wechat, description="Sign in from the mini-program of a bound user."
    )
    unbind_wechat = strawberry.mutation(
        resolver=unbind_wechat, description="Unbind the WeChat user (解除绑定)."
    )
