"""Builds the member-side services (accounts, identity, policies) from the settings."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from server.accounts.identity import IdentityService
from server.accounts.service import AccountsService
from server.accounts.sms_codes import SmsCodes
from server.clock import Clock, system_clock
from server.crypto import Vault, vault_for
from server.limits import Limiter
from server.limits.factory import make_limiter
from server.notify.sms import SmsSender, make_sender
from server.policies.service import PoliciesService
from server.settings import Settings
from server.wechat import WechatExchanger, make_exchanger


@dataclass
class MemberServices:
    vault: Vault
    sms: SmsSender
    accounts: AccountsService
    identity: IdentityService
    policies: PoliciesService
    limiter: Limiter


def member_services(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    sms: SmsSender | None = None,
    wechat: WechatExchanger | None = None,
    limiter: Limiter | None = None,
) -> MemberServices:
    vault = vault_for(settings.secret_key, settings.encryption_key)
    sender = sms or make_sender(
        settings.sms_gateway_url,
        vault,
        timeout=settings.sms_gateway_timeout,
        connect_timeout=settings.notify_connect_timeout,
    )
    limiter = limiter or make_limiter(settings, clock)
    accounts = AccountsService(
        vault,
        SmsCodes(vault, sender, clock, limiter),
        clock,
        limiter=limiter,
        idle=datetime.timedelta(minutes=settings.session_idle_minutes),
        absolute=datetime.timedelta(hours=settings.session_absolute_hours),
    )
    exchanger = wechat or make_exchanger(
        settings.wechat_api_url, settings.wechat_app_id, settings.wechat_app_secret
    )
    return MemberServices(
        vault=vault,
        sms=sender,
        accounts=accounts,
        identity=IdentityService(accounts, exchanger),
        policies=PoliciesService(vault),
        limiter=limiter,
    )
