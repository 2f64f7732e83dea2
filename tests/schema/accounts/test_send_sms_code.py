from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from server.accounts.errors import SmsDeliveryFailed
from tests.db import Api, FakeClock

SEND = """mutation($m: String!, $p: SmsPurpose!) { sendSmsCode(input: {mobile: $m, purpose: $p}) {
  __typename ... on Error { code message } ... on RetryLaterError { retryAfterSeconds }
  ... on ValidationError { fieldErrors { field code } } } }"""


def send(api: Api, mobile: str = "13612341560", purpose: str = "REGISTER") -> Any:
    return api(SEND, m=mobile, p=purpose)["data"]["sendSmsCode"]


def test_resend_too_soon_says_how_many_seconds(api: Api, clock: FakeClock) -> None:
    assert send(api)["__typename"] == "SendSmsCodeSuccess"
    clock.advance(seconds=20)
    out = send(api)
    assert out["__typename"] == "RetryLaterError" and out["code"] == "SMS_TOO_SOON"
    assert out["retryAfterSeconds"] == 100 and "100 seconds" in out["message"]


def test_hourly_limit(api: Api, clock: FakeClock) -> None:
    for _ in range(5):
        assert send(api)["__typename"] == "SendSmsCodeSuccess"
        clock.advance(seconds=120)
    out = send(api)
    assert out["code"] == "SMS_RATE_LIMITED" and out["retryAfterSeconds"] == 60 * 60 - 5 * 120


def test_invalid_mobile(api: Api) -> None:
    out = send(api, mobile="10086")
    assert out["fieldErrors"] == [{"field": "mobile", "code": "INVALID_MOBILE"}]
    body = api(SEND, m="13612341560", p="NOT_A_PURPOSE")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


class FailingSender:
    def send(self, db: Session, phone: str, text: str) -> None:
        raise SmsDeliveryFailed("The SMS could not be sent; try again later.")


def test_delivery_failure_is_typed_and_does_not_start_the_wait(
    api: Api, members: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(members.accounts.codes, "sender", FailingSender())
    assert send(api)["code"] == "SMS_DELIVERY_FAILED"
    assert send(api)["code"] == "SMS_DELIVERY_FAILED"  # not SMS_TOO_SOON: nothing was sent
