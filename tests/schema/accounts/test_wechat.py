from __future__ import annotations

import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.models import Account, IdentityAudit
from server.accounts.wiring import MemberServices
from tests.db import Api, FakeClock, last_sms_code
from tests.schema.accounts.helpers import codes

SEND = """mutation($m: String!) { sendSmsCode(input: {mobile: $m, purpose: BIND_WECHAT}) { __typename } }"""
BIND = """mutation($lc: String!, $n: String!, $no: String!, $m: String!, $c: String!) {
  bindWechat(input: {loginCode: $lc, name: $n, idType: RESIDENT_ID, idNumber: $no, mobile: $m, smsCode: $c}) {
    __typename
    ... on SignInSuccess { token viewer { wechatBound realNameVerified mobile } }
    ... on Error { code message }
    ... on ValidationError { fieldErrors { field code } }
    ... on MobileNotOnRecordError { maskedMobile }
  }
}"""
WX_LOGIN = """mutation($lc: String!) { logInWithWechat(input: {loginCode: $lc}) {
  __typename ... on SignInSuccess { token } ... on Error { code } } }"""
UNBIND = "mutation { unbindWechat { __typename ... on UnbindWechatSuccess { viewer { wechatBound } } ... on Error { code } } }"


def bind(
    api: Api,
    db: sessionmaker[Session],
    members: MemberServices,
    clock: FakeClock,
    person: Any,
    login_code: str,
    mobile: str | None = None,
) -> Any:
    phone = mobile or person.phone
    assert api(SEND, m=phone)["data"]["sendSmsCode"]["__typename"] == "SendSmsCodeSuccess"
    code = last_sms_code(db, members, phone)
    clock.advance(seconds=121)  # lets the next test step ask for another code
    return api(BIND, lc=login_code, n=person.name, no=person.id_number, m=phone, c=code)["data"][
        "bindWechat"
    ]


def test_bind_log_in_unbind_and_move_to_another_wechat(
    api: Api,
    demo: Any,
    db_factory: sessionmaker[Session],
    members: MemberServices,
    clock: FakeClock,
) -> None:
    colleague = demo.people["colleague"]
    # when the colleague binds her WeChat
    out = bind(api, db_factory, members, clock, colleague, "wx-phone-1")
    # then she is signed in, verified through the binding, and bound
    assert out["__typename"] == "SignInSuccess"
    assert out["viewer"] == {"wechatBound": True, "realNameVerified": True, "mobile": "138****0003"}
    ident = api("{ viewer { identity { name idType } } }", token=out["token"])["data"]["viewer"]
    assert ident["identity"] == {"name": "李*", "idType": "RESIDENT_ID"}
    # the mini-program signs in again with a new login code of the same WeChat user
    assert (
        api(WX_LOGIN, lc="wx-phone-1")["data"]["logInWithWechat"]["__typename"] == "SignInSuccess"
    )
    # a second WeChat account is refused until the first unbinds
    assert (
        bind(api, db_factory, members, clock, colleague, "wx-phone-2")["code"]
        == "WECHAT_ALREADY_BOUND"
    )
    unbound = api(UNBIND, token=out["token"])["data"]["unbindWechat"]
    assert unbound == {"__typename": "UnbindWechatSuccess", "viewer": {"wechatBound": False}}
    # the mini-program session ended with the binding
    assert codes(api("{ viewer { mobile } }", token=out["token"])) == ["UNAUTHENTICATED"]
    assert api(WX_LOGIN, lc="wx-phone-1")["data"]["logInWithWechat"]["code"] == "WECHAT_NOT_BOUND"
    moved = bind(api, db_factory, members, clock, colleague, "wx-phone-2")
    assert moved["__typename"] == "SignInSuccess"
    # unbinding twice
    api(UNBIND, token=moved["token"])
    token = api(
        """mutation { logIn(input: {mobile: "13800000003", password: "Demo2026!"}) { ... on SignInSuccess { token } } }"""
    )["data"]["logIn"]["token"]
    assert api(UNBIND, token=token)["data"]["unbindWechat"]["code"] == "WECHAT_NOT_BOUND"


def test_one_wechat_user_binds_one_identity(
    api: Api,
    demo: Any,
    db_factory: sessionmaker[Session],
    members: MemberServices,
    clock: FakeClock,
) -> None:
    assert (
        bind(api, db_factory, members, clock, demo.people["colleague"], "wx-shared")["__typename"]
        == "SignInSuccess"
    )
    out = bind(api, db_factory, members, clock, demo.people["main"], "wx-shared")
    assert out["code"] == "WECHAT_ALREADY_BOUND"


def test_bind_errors(
    api: Api,
    demo: Any,
    db_factory: sessionmaker[Session],
    members: MemberServices,
    clock: FakeClock,
) -> None:
    colleague = demo.people["colleague"]
    bad = api(BIND, lc="wx", n="李娜", no="123", m="555", c="1")["data"]["bindWechat"]
    assert bad["__typename"] == "ValidationError"
    assert {e["field"] for e in bad["fieldErrors"]} == {"idNumber", "mobile", "smsCode"}
    wrong_code = api(
        BIND, lc="wx", n=colleague.name, no=colleague.id_number, m=colleague.phone, c="000000"
    )
    assert wrong_code["data"]["bindWechat"]["code"] == "SMS_CODE_INVALID"
    bad_login = api(
        BIND,
        lc="bad code!",
        n=colleague.name,
        no=colleague.id_number,
        m=colleague.phone,
        c="000000",
    )
    assert bad_login["data"]["bindWechat"]["code"] == "WECHAT_CODE_INVALID"
    stranger = SimpleNamespace(name="赵六", id_number="11010519491231002X", phone="13900000009")
    assert bind(api, db_factory, members, clock, stranger, "wx")["code"] == "IDENTITY_NOT_INSURED"
    # the colleague's identity with the main insured's mobile: that account is someone else's
    out = bind(api, db_factory, members, clock, colleague, "wx-other", mobile="13800000001")
    assert out["code"] == "IDENTITY_TAKEN"
    assert api(WX_LOGIN, lc="!!")["data"]["logInWithWechat"]["code"] == "WECHAT_CODE_INVALID"
    assert codes(api(UNBIND)) == ["UNAUTHENTICATED"]


def test_binding_a_new_identity_needs_the_mobile_on_the_policy_record(
    api: Api,
    demo: Any,
    db_factory: sessionmaker[Session],
    members: MemberServices,
    clock: FakeClock,
) -> None:
    # given someone who knows the colleague's document and proves a mobile of their own
    colleague = demo.people["colleague"]
    out = bind(api, db_factory, members, clock, colleague, "wx-stranger", mobile="13900000009")
    # then nothing is bound: the record mobile is named, masked
    assert out["__typename"] == "MobileNotOnRecordError"
    assert (out["code"], out["maskedMobile"]) == ("MOBILE_NOT_ON_RECORD", "138****0003")
    assert "13800000003" not in out["message"]
    assert api(WX_LOGIN, lc="wx-stranger")["data"]["logInWithWechat"]["code"] == "WECHAT_NOT_BOUND"
    # a person with no mobile on record binds through the hotline
    child = demo.people["child"]
    out = bind(api, db_factory, members, clock, child, "wx-child", mobile="13900000008")
    assert out["code"] == "NO_MOBILE_ON_RECORD"


def test_binding_tries_count_like_real_name_tries(
    api: Api,
    demo: Any,
    db_factory: sessionmaker[Session],
    members: MemberServices,
    clock: FakeClock,
) -> None:
    colleague = demo.people["colleague"]
    # five tries at the colleague's identity with codes that are wrong
    for _ in range(5):
        out = api(
            BIND, lc="wx", n=colleague.name, no=colleague.id_number, m=colleague.phone, c="000000"
        )["data"]["bindWechat"]
        assert out["code"] == "SMS_CODE_INVALID"
    # then even the right code is refused, before anything is looked up
    out = bind(api, db_factory, members, clock, colleague, "wx-late")
    assert out["__typename"] == "RealNameLockedError" and out["code"] == "REAL_NAME_LOCKED"


def test_the_person_takes_back_an_identity_by_binding_with_the_record_mobile(
    api: Api,
    demo: Any,
    db_factory: sessionmaker[Session],
    members: MemberServices,
    clock: FakeClock,
) -> None:
    # given the spouse's identity held by another account
    spouse = demo.people["spouse"]
    with db_factory() as s:
        taker = Account(
            phone_hash=members.accounts.phone_hash("13900000066"),
            phone_enc=members.vault.encrypt("13900000066"),
            person_id=spouse.person_id,
            created_at=datetime.datetime.now(datetime.UTC),
        )
        s.add(taker)
        s.commit()
        taker_id = taker.id
    # when she binds her WeChat with her record mobile
    out = bind(api, db_factory, members, clock, spouse, "wx-spouse")
    # then she is signed in with the identity, and the other account lost it
    assert out["__typename"] == "SignInSuccess"
    assert out["viewer"]["realNameVerified"] is True
    with db_factory() as s:
        held = s.get(Account, taker_id)
        assert held is not None and held.person_id is None
        audit = s.scalars(select(IdentityAudit)).one()
        assert (audit.factor, audit.channel, audit.previous_account_id) == (
            "sms_code",
            "wechat",
            taker_id,
        )
