"""Exchanging a WeChat mini-program login code (wx.login) for the user's openid."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Protocol

from server.accounts.errors import WechatCodeInvalid

log = logging.getLogger(__name__)
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


class WechatExchanger(Protocol):
    def openid(self, code: str) -> str: ...


class DevWechatExchanger:
    """Development and tests: the same code always gives the same openid, no network."""

    def openid(self, code: str) -> str:
        if not _CODE.match(code or ""):
            raise WechatCodeInvalid("The WeChat login code is not valid; log in to WeChat again.")
        return "dev-" + hashlib.sha256(code.encode()).hexdigest()[:24]


class HttpWechatExchanger:
    """WeChat's code2Session: GET {base}/sns/jscode2session?appid&secret&js_code&grant_type."""

    def __init__(
        self, base_url: str, app_id: str, app_secret: str, *, timeout: float = 5.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self.app_secret = app_secret
        self.timeout = timeout

    def openid(self, code: str) -> str:
        if not _CODE.match(code or ""):
            raise WechatCodeInvalid("The WeChat login code is not valid; log in to WeChat again.")
        query = urllib.parse.urlencode(
            {
                "appid": self.app_id,
                "secret": self.app_secret,
                "js_code": code,
                "grant_type": "authorization_code",
            }
        )
        try:
            with urllib.request.urlopen(
                f"{self.base_url}/sns/jscode2session?{query}", timeout=self.timeout
            ) as resp:
                data = json.loads(resp.read())
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as e:
            log.warning("wechat code exchange failed: %s", type(e).__name__)
            raise WechatCodeInvalid("WeChat could not confirm the login; try again.") from None
        openid = data.get("openid") if isinstance(data, dict) else None
        if not openid:
            raise WechatCodeInvalid("The WeChat login code is not valid; log in to WeChat again.")
        return str(openid)


def make_exchanger(api_url: str, app_id: str, app_secret: str) -> WechatExchanger:
    if api_url:
        return HttpWechatExchanger(api_url, app_id, app_secret)
    return DevWechatExchanger()
