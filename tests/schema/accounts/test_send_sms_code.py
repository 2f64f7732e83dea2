from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from server.accounts.errors import SmsDeliveryFailed
from tests.db import Api, FakeClock
from tests.schema.accounts.helpers import log_in

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


def test_account_bound_codes_go_only_to_the_signed_in_accounts_mobile(api: Api, demo: Any) -> None:
    # given nobody signed in
    for purpose in ("CONFIRM_CLAIM", "CHANGE_CONTACT"):
        out = send(api, mobile="13800000001", purpose=purpose)
        assert out["__typename"] == "ValidationError"
        assert out["fieldErrors"] == [{"field": "purpose", "code": "SIGN_IN_REQUIRED"}]
    # when a member signs in, another number is refused and the own one gets its code
    api.token = log_in(api, "13800000001")
    out = send(api, mobile="13800000003", purpose="CONFIRM_CLAIM")
    assert out["fieldErrors"] == [{"field": "mobile", "code": "NOT_ACCOUNT_MOBILE"}]
    assert send(api, mobile="13800000001", purpose="CONFIRM_CLAIM")["__typename"] == (
        "SendSmsCodeSuccess"
    )
    # other purposes need no sign-in, and a token sent along does no harm
    assert send(api, mobile="13900000009")["__typename"] == "SendSmsCodeSuccess"


def test_a_stranger_cannot_spend_the_members_confirmation_codes(
    api: Api, demo: Any, clock: FakeClock
) -> None:
    # given a stranger asking for every code a member's number can get without signing in
    for _ in range(5):
        for purpose in ("REGISTER", "RESET_PASSWORD", "BIND_WECHAT"):
            assert send(api, mobile="13800000001", purpose=purpose)["__typename"] == (
                "SendSmsCodeSuccess"
            )
        clock.advance(seconds=120)
    assert send(api, mobile="13800000001")["code"] == "SMS_RATE_LIMITED"
    # when the member confirms a claim, the code still comes
    api.token = log_in(api, "13800000001")
    out = send(api, mobile="13800000001", purpose="CONFIRM_CLAIM")
    assert out["__typename"] == "SendSmsCodeSuccess"


def test_one_address_gets_a_limited_number_of_codes(api: Api, clock: FakeClock) -> None:
    for i in range(30):
        assert send(api, mobile=f"1361234{i:04d}")["__typename"] == "SendSmsCodeSuccess"
    out = send(api, mobile="13612349999")
    assert out["code"] == "SMS_RATE_LIMITED" and out["retryAfterSeconds"] == 600
    clock.advance(minutes=10)
    assert send(api, mobile="13612349999")["__typename"] == "SendSmsCodeSuccess"
