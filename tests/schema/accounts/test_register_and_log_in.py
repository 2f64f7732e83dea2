from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.wiring import MemberServices
from tests.db import Api, FakeClock, last_sms_code, statements, writes

PHONE = "13612341560"
PASSWORD = "Health2026!"

SEND = """mutation($mobile: String!, $purpose: SmsPurpose!) {
  sendSmsCode(input: {mobile: $mobile, purpose: $purpose}) {
    __typename
    ... on SendSmsCodeSuccess { resendAfterSeconds expiresInSeconds }
    ... on Error { code message }
    ... on RetryLaterError { retryAfterSeconds }
    ... on ValidationError { fieldErrors { field code } }
  }
}"""
REGISTER = """mutation($mobile: String!, $password: String!, $code: String!, $terms: Boolean!) {
  register(input: {mobile: $mobile, password: $password, smsCode: $code, acceptTerms: $terms}) {
    __typename
    ... on SignInSuccess { token viewer { mobile realNameVerified } }
    ... on Error { code }
    ... on ValidationError { fieldErrors { field code } }
  }
}"""
LOGIN = """mutation($mobile: String!, $password: String!) {
  logIn(input: {mobile: $mobile, password: $password}) {
    __typename
    ... on SignInSuccess { token }
    ... on Error { code message }
    ... on RetryLaterError { retryAfterSeconds }
    ... on ValidationError { fieldErrors { field code } }
  }
}"""
RESET = """mutation($mobile: String!, $password: String!, $code: String!) {
  resetPassword(input: {mobile: $mobile, newPassword: $password, smsCode: $code}) {
    __typename
    ... on Error { code }
    ... on ValidationError { fieldErrors { field code } }
  }
}"""
VIEWER = "{ viewer { mobile realNameVerified } }"


def register(
    api: Api, db: sessionmaker[Session], members: MemberServices, phone: str = PHONE
) -> str:
    assert (
        api(SEND, mobile=phone, purpose="REGISTER")["data"]["sendSmsCode"]["__typename"]
        == "SendSmsCodeSuccess"
    )
    code = last_sms_code(db, members, phone)
    out = api(REGISTER, mobile=phone, password=PASSWORD, code=code, terms=True)["data"]["register"]
    assert out["__typename"] == "SignInSuccess", out
    return str(out["token"])


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


def test_register_signs_in_and_masks_the_mobile(
    api: Api, db_factory: sessionmaker[Session], members: MemberServices
) -> None:
    # given a code sent for registration
    sent = api(SEND, mobile=PHONE, purpose="REGISTER")["data"]["sendSmsCode"]
    assert sent == {
        "__typename": "SendSmsCodeSuccess",
        "resendAfterSeconds": 120,
        "expiresInSeconds": 300,
    }
    code = last_sms_code(db_factory, members, PHONE)
    # when registering with it
    out = api(REGISTER, mobile=PHONE, password=PASSWORD, code=code, terms=True)["data"]["register"]
    # then the account is signed in and shows its number masked
    assert out["__typename"] == "SignInSuccess"
    assert out["viewer"] == {"mobile": "136****1560", "realNameVerified": False}
    assert api(VIEWER, token=out["token"])["data"]["viewer"]["mobile"] == "136****1560"


def test_register_rejects_bad_fields_with_codes(api: Api) -> None:
    out = api(REGISTER, mobile="12345", password="abcdefgh", code="12", terms=False)["data"][
        "register"
    ]
    assert out["__typename"] == "ValidationError"
    assert {(e["field"], e["code"]) for e in out["fieldErrors"]} == {
        ("mobile", "INVALID_MOBILE"),
        ("password", "PASSWORD_TOO_SIMPLE"),
        ("smsCode", "INVALID_SMS_CODE"),
        ("acceptTerms", "TERMS_NOT_ACCEPTED"),
    }


def test_register_with_a_wrong_code_and_twice(
    api: Api, db_factory: sessionmaker[Session], members: MemberServices, clock: FakeClock
) -> None:
    api(SEND, mobile=PHONE, purpose="REGISTER")
    real = last_sms_code(db_factory, members, PHONE)
    other = f"{(int(real) + 1) % 1_000_000:06d}"
    wrong = api(REGISTER, mobile=PHONE, password=PASSWORD, code=other, terms=True)["data"]
    assert wrong["register"] == {"__typename": "SmsCodeInvalidError", "code": "SMS_CODE_INVALID"}
    register_again = api(
        REGISTER,
        mobile=PHONE,
        password=PASSWORD,
        code=last_sms_code(db_factory, members, PHONE),
        terms=True,
    )
    assert register_again["data"]["register"]["__typename"] == "SignInSuccess"
    # a second registration with a guessed code answers as for any number: nothing told
    guessed = api(REGISTER, mobile=PHONE, password=PASSWORD, code="123456", terms=True)
    unknown = api(REGISTER, mobile="13912345678", password=PASSWORD, code="123456", terms=True)
    assert guessed["data"]["register"] == unknown["data"]["register"]
    assert guessed["data"]["register"]["code"] == "SMS_CODE_INVALID"
    # only the number's owner, with a code sent to it, learns that it has an account
    clock.advance(minutes=3)
    api(SEND, mobile=PHONE, purpose="REGISTER")
    code = last_sms_code(db_factory, members, PHONE)
    out = api(REGISTER, mobile=PHONE, password=PASSWORD, code=code, terms=True)["data"]
    assert out["register"]["code"] == "ACCOUNT_EXISTS"


def test_log_in_log_out_and_token_rotation(
    api: Api, db_factory: sessionmaker[Session], members: MemberServices
) -> None:
    first = register(api, db_factory, members)
    # when logging in with the first token sent along
    out = api(LOGIN, token=first, mobile=PHONE, password=PASSWORD)["data"]["logIn"]
    assert out["__typename"] == "SignInSuccess"
    second = out["token"]
    # then the old token no longer works and the new one does
    assert codes(api(VIEWER, token=first)) == ["UNAUTHENTICATED"]
    assert api(VIEWER, token=second)["data"]["viewer"]["mobile"] == "136****1560"
    # log out ends it
    assert api("mutation { logOut { ok } }", token=second)["data"]["logOut"] == {"ok": True}
    assert codes(api(VIEWER, token=second)) == ["UNAUTHENTICATED"]


def test_viewer_without_or_with_a_forged_token_is_unauthenticated(api: Api) -> None:
    assert codes(api(VIEWER)) == ["UNAUTHENTICATED"]
    assert codes(api(VIEWER, token="x" * 43)) == ["UNAUTHENTICATED"]
    assert codes(api("mutation { logOut { ok } }")) == ["UNAUTHENTICATED"]


def test_wrong_password_and_unknown_mobile_answer_alike(
    api: Api, db_factory: sessionmaker[Session], members: MemberServices
) -> None:
    register(api, db_factory, members)
    wrong = api(LOGIN, mobile=PHONE, password="Wrong2026!")["data"]["logIn"]
    unknown = api(LOGIN, mobile="13900000000", password="Wrong2026!")["data"]["logIn"]
    assert (
        wrong
        == unknown
        == {
            "__typename": "LoginFailedError",
            "code": "LOGIN_FAILED",
            "message": "The mobile number or password is wrong.",
        }
    )
    bad = api(LOGIN, mobile="555", password="x")["data"]["logIn"]
    assert bad["__typename"] == "ValidationError"


def test_repeated_failures_throttle_then_lock_registered_or_not(
    api: Api, db_factory: sessionmaker[Session], members: MemberServices, clock: FakeClock
) -> None:
    register(api, db_factory, members)
    for phone in (PHONE, "13900000001"):
        results = []
        for _ in range(5):
            results.append(api(LOGIN, mobile=phone, password="Wrong2026!")["data"]["logIn"]["code"])
            clock.advance(seconds=31)
        # three failures, then each try waits 30 s, the fifth locks the number
        assert results == ["LOGIN_FAILED"] * 5
        locked = api(LOGIN, mobile=phone, password=PASSWORD)["data"]["logIn"]
        assert locked["code"] == "LOGIN_LOCKED"
        assert 0 < locked["retryAfterSeconds"] <= 15 * 60
    # after the lock the right password works again
    clock.advance(minutes=16)
    assert (
        api(LOGIN, mobile=PHONE, password=PASSWORD)["data"]["logIn"]["__typename"]
        == "SignInSuccess"
    )


def test_throttle_makes_a_fourth_quick_try_wait(
    api: Api, db_factory: sessionmaker[Session], members: MemberServices, clock: FakeClock
) -> None:
    register(api, db_factory, members)
    for _ in range(3):
        api(LOGIN, mobile=PHONE, password="Wrong2026!")
    out = api(LOGIN, mobile=PHONE, password=PASSWORD)["data"]["logIn"]
    assert out["code"] == "LOGIN_LOCKED" and out["retryAfterSeconds"] == 30
    clock.advance(seconds=30)
    assert (
        api(LOGIN, mobile=PHONE, password=PASSWORD)["data"]["logIn"]["__typename"]
        == "SignInSuccess"
    )


def test_reset_password_revokes_sessions(
    api: Api, db_factory: sessionmaker[Session], members: MemberServices, clock: FakeClock
) -> None:
    token = register(api, db_factory, members)
    api(SEND, mobile=PHONE, purpose="RESET_PASSWORD")
    code = last_sms_code(db_factory, members, PHONE)
    out = api(RESET, mobile=PHONE, password="NewHealth2026", code=code)["data"]["resetPassword"]
    assert out == {"__typename": "ResetPasswordSuccess"}
    assert codes(api(VIEWER, token=token)) == ["UNAUTHENTICATED"]
    assert api(LOGIN, mobile=PHONE, password=PASSWORD)["data"]["logIn"]["code"] == "LOGIN_FAILED"
    clock.advance(seconds=1)
    assert (
        api(LOGIN, mobile=PHONE, password="NewHealth2026")["data"]["logIn"]["__typename"]
        == "SignInSuccess"
    )


def test_reset_password_errors(api: Api) -> None:
    bad = api(RESET, mobile=PHONE, password="short", code="1")["data"]["resetPassword"]
    assert bad["__typename"] == "ValidationError"
    assert {e["field"] for e in bad["fieldErrors"]} == {"newPassword", "smsCode"}
    # an unknown number answers like a wrong code
    out = api(RESET, mobile="13900000002", password="NewHealth2026", code="123456")["data"][
        "resetPassword"
    ]
    assert out["code"] == "SMS_CODE_INVALID"


def test_sessions_end_after_idle_and_absolute_time(
    api: Api, db_factory: sessionmaker[Session], members: MemberServices, clock: FakeClock
) -> None:
    token = register(api, db_factory, members)
    clock.advance(minutes=29)
    assert "errors" not in api(VIEWER, token=token)
    clock.advance(minutes=31)
    assert codes(api(VIEWER, token=token)) == ["UNAUTHENTICATED"]
    # a session kept busy still ends at its absolute limit
    token = api(LOGIN, mobile=PHONE, password=PASSWORD)["data"]["logIn"]["token"]
    for _ in range(12 * 3):
        clock.advance(minutes=20)
        result = api(VIEWER, token=token)
    assert codes(result) == ["UNAUTHENTICATED"]


def test_a_run_of_signed_in_reads_writes_nothing(
    api: Api,
    db_factory: sessionmaker[Session],
    db_connection: Connection,
    members: MemberServices,
    clock: FakeClock,
) -> None:
    # given a signed-in member
    token = register(api, db_factory, members)
    # when they read for a minute less a second
    with statements(db_connection) as seen:
        for _ in range(20):
            clock.advance(seconds=2.95)
            assert "errors" not in api(VIEWER, token=token)
    # then the session was read each time and written never (the one write of each read
    # is the charge of its cost to the budget, server/api_budget.py)
    assert len([s for s in seen if "login_session" in s.lower()]) >= 20
    assert [s for s in writes(seen) if "rate_limit" not in s.lower()] == []
    # and the next read, a minute on, writes the idle clock once
    clock.advance(seconds=2)
    with statements(db_connection) as seen:
        for _ in range(3):
            assert "errors" not in api(VIEWER, token=token)
    updates = [s for s in writes(seen) if "rate_limit" not in s.lower()]
    assert len(updates) == 1 and updates[0].lstrip().upper().startswith("UPDATE LOGIN_SESSION")


def test_an_unexpected_failure_rolls_back_the_whole_request(
    api: Api, db_factory: sessionmaker[Session], members: MemberServices, monkeypatch: Any
) -> None:
    # given registration fails after the account row was written
    api(SEND, mobile=PHONE, purpose="REGISTER")
    code = last_sms_code(db_factory, members, PHONE)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("storage went away")

    monkeypatch.setattr(members.accounts, "_start_session", broken)
    body = api(REGISTER, mobile=PHONE, password=PASSWORD, code=code, terms=True)
    # then the client sees a masked error and nothing of the request stayed
    assert codes(body) == ["INTERNAL_SERVER_ERROR"]
    assert "storage" not in str(body)
    with db_factory() as s:
        assert members.accounts.find_by_phone(s, PHONE) is None
    monkeypatch.undo()
    # the code was not used up either: the same code registers now
    out = api(REGISTER, mobile=PHONE, password=PASSWORD, code=code, terms=True)["data"]["register"]
    assert out["__typename"] == "SignInSuccess"


def test_tokens_are_long_random_and_stored_hashed(
    api: Api, db_factory: sessionmaker[Session], members: MemberServices
) -> None:
    from sqlalchemy import select

    from server.sessions import LoginSession

    token = register(api, db_factory, members)
    assert len(token) >= 43  # 32 random bytes, URL-safe base64
    with db_factory() as s:
        stored = s.scalars(select(LoginSession.token_hash)).all()
    assert len(stored) == 1 and token not in stored[0] and len(stored[0]) == 64


def test_no_personal_data_reaches_the_log(
    api: Api,
    db_factory: sessionmaker[Session],
    members: MemberServices,
    caplog: Any,
) -> None:
    import logging

    with caplog.at_level(logging.DEBUG):
        register(api, db_factory, members)
        api(LOGIN, mobile=PHONE, password="Wrong2026!")
        api(LOGIN, mobile=PHONE, password=PASSWORD)
    assert caplog.records  # the SMS sender did log
    assert PHONE not in caplog.text and PASSWORD not in caplog.text
