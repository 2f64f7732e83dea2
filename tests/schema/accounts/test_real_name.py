from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.models import Account, Identity, IdentityAudit
from server.accounts.wiring import MemberServices
from server.policies.models import IdType
from server.policies.records import resident_id
from tests.db import Api, last_sms_code
from tests.schema.accounts.helpers import log_in
from tests.schema.accounts.test_register_and_log_in import SEND, register

VERIFY = """mutation($t: IdType!, $n: String!, $no: String!, $from: Date!, $to: Date, $code: String) {
  verifyRealName(input: {idType: $t, name: $n, idNumber: $no, validFrom: $from, validTo: $to,
                         smsCode: $code}) {
    __typename
    ... on VerifyRealNameSuccess { viewer { realNameVerified identity { name idType idNumber validTo } } }
    ... on Error { code message }
    ... on ValidationError { fieldErrors { field code } }
    ... on RealNameLockedError { retryAfterSeconds }
    ... on SecondFactorRequiredError { maskedMobile identityTaken resendAfterSeconds expiresInSeconds }
  }
}"""
POLICIES = """{ viewer { policies { __typename ... on Error { code } ... on PolicyList { totalCount } } } }"""


def verify(api: Api, token: str, person: Any, **over: Any) -> Any:
    args = {
        "t": "RESIDENT_ID",
        "n": person.name,
        "no": person.id_number,
        "from": "2020-01-01",
        "to": None,
        "code": None,
    }
    args.update(over)
    return api(VERIFY, token=token, **args)["data"]["verifyRealName"]


def test_insurance_queries_need_real_name_then_open(api: Api, demo: Any) -> None:
    # given a signed-in member who has not verified
    token = log_in(api, "13800000003")
    # then insurance answers with a typed REAL_NAME_REQUIRED
    out = api(POLICIES, token=token)["data"]["viewer"]["policies"]
    assert out == {"__typename": "RealNameRequiredError", "code": "REAL_NAME_REQUIRED"}
    nets = api("{ viewer { networks { __typename ... on Error { code } } } }", token=token)
    assert nets["data"]["viewer"]["networks"]["code"] == "REAL_NAME_REQUIRED"
    # when they verify with their document
    colleague = demo.people["colleague"]
    result = verify(api, token, colleague)
    # then the identity shows masked and the policies open
    assert result["__typename"] == "VerifyRealNameSuccess"
    ident = result["viewer"]["identity"]
    assert ident["name"] == "李*" and ident["idType"] == "RESIDENT_ID"
    assert ident["idNumber"] == colleague.id_number[:4] + "*" * 10 + colleague.id_number[-4:]
    assert api(POLICIES, token=token)["data"]["viewer"]["policies"] == {
        "__typename": "PolicyList",
        "totalCount": 1,
    }


def test_verification_errors(api: Api, demo: Any) -> None:
    token = log_in(api, "13800000003")
    colleague = demo.people["colleague"]
    bad_checksum = colleague.id_number[:17] + ("0" if colleague.id_number[17] != "0" else "1")
    out = verify(api, token, colleague, no=bad_checksum, to="2020-01-01")
    assert out["__typename"] == "ValidationError"
    assert {(e["field"], e["code"]) for e in out["fieldErrors"]} == {
        ("idNumber", "INVALID_ID_NUMBER"),
        ("validTo", "DOCUMENT_EXPIRED"),
        ("validTo", "INVALID_DATES"),
    }
    # a valid document of someone not insured, or a wrong name
    assert verify(api, token, colleague, n="李四")["code"] == "IDENTITY_NOT_INSURED"
    assert verify(api, token, colleague, no="11010519491231002X")["code"] == "IDENTITY_NOT_INSURED"
    # the main insured's identity belongs to another account: only his record mobile moves it
    taken = verify(api, token, demo.people["main"])
    assert taken["code"] == "SECOND_FACTOR_REQUIRED"
    assert (taken["maskedMobile"], taken["identityTaken"]) == ("138****0001", True)
    # verifying twice
    assert verify(api, token, colleague)["__typename"] == "VerifyRealNameSuccess"
    assert verify(api, token, colleague)["code"] == "ALREADY_VERIFIED"


def test_verification_needs_sign_in(api: Api, demo: Any) -> None:
    body = api(VERIFY, t="RESIDENT_ID", n="x", no="1", **{"from": "2020-01-01"})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]


def test_guessing_document_numbers_locks_with_a_clear_answer(api: Api, demo: Any) -> None:
    # given a member guessing the colleague's serial and check digit
    token = log_in(api, "13800000003")
    colleague = demo.people["colleague"]
    serials = [f"{i:03d}" for i in range(1, 10) if f"{i:03d}" != colleague.id_number[14:17]]
    guesses = [resident_id(colleague.id_number[:6], colleague.birth_date, s) for s in serials]
    for number in guesses[:5]:
        assert verify(api, token, colleague, no=number)["code"] == "IDENTITY_NOT_INSURED"
    # when the right number comes next
    out = verify(api, token, colleague)
    # then it is refused like any other try, saying when to come back
    assert out["__typename"] == "RealNameLockedError"
    assert (out["code"], out["retryAfterSeconds"]) == ("REAL_NAME_LOCKED", 24 * 3600)
    assert "Try again after 2026-03-03 17:00 (Beijing time)" in out["message"]
    assert "hotline 10108686" in out["message"]
    viewer = api("{ viewer { realNameVerified } }", token=token)["data"]["viewer"]
    assert viewer == {"realNameVerified": False}


def test_another_mobile_verifies_with_the_code_sent_to_the_record_mobile(
    api: Api, demo: Any, db_factory: sessionmaker[Session], members: MemberServices
) -> None:
    # given the spouse signed up with a mobile other than the one on her policy record
    token = register(api, db_factory, members, "13900000001")
    spouse = demo.people["spouse"]
    # when she verifies
    body = api(
        VERIFY,
        token=token,
        t="RESIDENT_ID",
        n=spouse.name,
        no=spouse.id_number,
        **{"from": "2020-01-01"},
    )
    # then a code goes to the record mobile, which the answer shows masked only
    asked = body["data"]["verifyRealName"]
    assert asked["__typename"] == "SecondFactorRequiredError"
    assert asked["code"] == "SECOND_FACTOR_REQUIRED"
    assert (asked["maskedMobile"], asked["identityTaken"]) == ("138****0002", False)
    assert (asked["resendAfterSeconds"], asked["expiresInSeconds"]) == (120, 300)
    assert "13800000002" not in str(body)
    code = last_sms_code(db_factory, members, "13800000002")
    wrong = "000000" if code != "000000" else "111111"
    assert verify(api, token, spouse, code=wrong)["code"] == "SMS_CODE_INVALID"
    # and the right code completes the verification
    done = verify(api, token, spouse, code=code)
    assert done["__typename"] == "VerifyRealNameSuccess"
    assert done["viewer"]["identity"]["name"] == "王*"
    assert api(POLICIES, token=token)["data"]["viewer"]["policies"]["totalCount"] == 1


def test_no_mobile_on_record_sends_to_the_hotline(api: Api, demo: Any) -> None:
    token = log_in(api, "13800000003")
    out = verify(api, token, demo.people["child"])
    assert out["__typename"] == "NoMobileOnRecordError"
    assert out["code"] == "NO_MOBILE_ON_RECORD" and "10108686" in out["message"]


def test_the_person_takes_back_an_identity_another_account_holds(
    api: Api, demo: Any, db_factory: sessionmaker[Session], members: MemberServices
) -> None:
    # given the spouse's identity bound to someone else's account (as one-step
    # verification allowed), which therefore sees her policy
    spouse = demo.people["spouse"]
    taker = register(api, db_factory, members, "13900000066")
    with db_factory() as s:
        held = s.scalar(
            select(Account).where(Account.phone_hash == members.accounts.phone_hash("13900000066"))
        )
        assert held is not None
        held.person_id = spouse.person_id
        s.add(
            Identity(
                account_id=held.id,
                id_type=IdType.RESIDENT_ID,
                name_enc=members.vault.encrypt(spouse.name),
                id_number_enc=members.vault.encrypt(spouse.id_number),
                id_number_hash=members.vault.lookup(spouse.id_number, kind="id"),
                valid_from=datetime.date(2020, 1, 1),
                valid_to=None,
            )
        )
        s.commit()
    assert api(POLICIES, token=taker)["data"]["viewer"]["policies"]["totalCount"] == 1
    # when the spouse signs up with her record mobile and verifies
    own = register(api, db_factory, members, "13800000002")
    assert verify(api, own, spouse)["__typename"] == "VerifyRealNameSuccess"
    # then the earlier account has lost the identity and the policy, and it is audited
    assert api(POLICIES, token=taker)["data"]["viewer"]["policies"]["code"] == "REAL_NAME_REQUIRED"
    assert api(POLICIES, token=own)["data"]["viewer"]["policies"]["totalCount"] == 1
    with db_factory() as s:
        audit = s.scalars(select(IdentityAudit)).one()
        assert (audit.event, audit.factor, audit.person_id) == (
            "reclaimed",
            "same_mobile",
            spouse.person_id,
        )


def test_verify_identity_codes_are_not_sent_on_request(api: Api) -> None:
    out = api(SEND, mobile="13800000002", purpose="VERIFY_IDENTITY")["data"]["sendSmsCode"]
    assert out["__typename"] == "ValidationError"
    assert out["fieldErrors"] == [{"field": "purpose", "code": "PURPOSE_NOT_ALLOWED"}]
