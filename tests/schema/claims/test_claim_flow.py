"""The self-service claim over GraphQL: every step, the confirm view, the SMS code, submission."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.wiring import MemberServices
from server.claims.core import ClaimContext
from server.claims.models import Claim as ClaimRow
from server.claims.models import OutpatientYearTotal
from server.workdays import CHINA_TZ
from tests.db import Api, FakeClock
from tests.schema.claims.helpers import (
    AMOUNT,
    BASICS,
    CLAIM,
    CONTACT,
    DISCARD,
    ERR,
    ONE,
    REMOVE,
    SEND,
    START,
    SUBMIT,
    Claimant,
    gid,
    pk,
)

MAIN = "13800000001"
STAFF = "13800000005"
CONFIRM = (
    "query($id: ID!) { claimConfirmation(id: $id) { __typename ... on ClaimConfirmation { ready "
    "problems { code field message } insured { name idNumber relation } applicant { name mobile "
    "email } payee { accountNo holderName bankName } onlineLimit claim { ...C } } "
    f"{ERR} }} }}\n{CLAIM}"
)
DRAFTS = (
    f"{{ claimDrafts {{ __typename ... on ClaimDraftList {{ drafts {{ id status }} }} {ERR} }} }}"
)


@pytest.fixture
def zhang(
    api: Api,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
) -> Claimant:
    return Claimant(api, db_factory, claims, members, demo, MAIN)


def test_a_member_claims_step_by_step_and_gets_a_claim_number(zhang: Claimant) -> None:
    # given a verified member with no contact details on file
    out = zhang.start("main")
    assert (out["__typename"], out["code"]) == ("ClaimRuleError", "CONTACT_REQUIRED")
    # when they add them
    profile = zhang.contact()["profile"]
    assert profile == {
        "contact": {"address": "上海市浦东新****", "email": "z***@example.com"},
        "payee": None,
        "contactRequired": False,
        "payeeRequired": True,
    }
    # and go through the steps
    claim = zhang.start("main")["claim"]
    assert claim["status"] == "DRAFT" and claim["claimNo"] is None
    assert claim["relation"] == "SELF" and claim["noticeAcceptedAt"]
    claim_id = claim["id"]
    basics = zhang.basics(claim_id, facilityName="复旦大学附属华山医院")["claim"]
    assert basics["claimType"] == {
        "code": "OUTPATIENT",
        "name": "门急诊",
        "nameEn": "Outpatient and emergency",
    }
    assert basics["address"] == "上海市浦东新****"
    amount = zhang.amount(
        claim_id,
        "1999.50",
        invoiceNumbers=["FP-0001"],
        otherCompensation="100",
        payee={"bankName": "中国建设银行", "accountNo": "6217 0012 1001 9876 789"},
    )["claim"]
    assert amount["invoiceTotal"] == "1999.50" and amount["otherCompensation"] == "100.00"
    assert amount["payee"] == {
        "holderName": "张*",
        "bankName": "中国建设银行",
        "accountNo": "****6789",
    }
    assert amount["onlineLimit"] == "2000.00" and amount["invoiceNumbers"] == ["FP-0001"]
    zhang.add_document(claim_id, "MEDICAL_RECORD")
    zhang.add_document(claim_id, "INVOICE")
    # the confirm view shows everything masked, and what still blocks
    view = zhang(CONFIRM, id=claim_id)["data"]["claimConfirmation"]
    assert view["__typename"] == "ClaimConfirmation" and not view["ready"]
    assert [p["code"] for p in view["problems"]] == ["SIGNATURE_REQUIRED"]
    assert view["insured"]["name"] == "张*" and view["insured"]["relation"] == "SELF"
    assert view["applicant"] == {
        "name": "张*",
        "mobile": "138****0001",
        "email": "z***@example.com",
    }
    materials = {m["category"]["code"]: len(m["documents"]) for m in view["claim"]["materials"]}
    assert materials == {"MEDICAL_RECORD": 1, "INVOICE": 1, "ACCIDENT_PROOF": 0, "OTHER": 0}
    doc = view["claim"]["materials"][0]["documents"][0]
    assert "/claim-files/" in doc["url"] and doc["thumbnailUrl"]
    # nothing personal leaves in full
    text = json.dumps(view, ensure_ascii=False)
    for secret in (
        "张伟",
        "6217001210019876789",
        "zw@example.com",
        "13800000001",
        "世纪大道",
        "310115",
    ):
        assert secret not in text.replace("3101**", "")
    zhang.sign(claim_id)
    assert zhang(CONFIRM, id=claim_id)["data"]["claimConfirmation"]["ready"] is True
    # the SMS code and submission
    code = zhang.send_code(claim_id)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    out = zhang.submit(claim_id, wrong, "client-key-001")
    assert (out["__typename"], out["code"]) == ("SmsCodeInvalidError", "SMS_CODE_INVALID")
    out = zhang.submit(claim_id, code, "client-key-001")
    assert out["__typename"] == "SubmitClaimSuccess"
    assert re.fullmatch(r"VSHH\d{6}\d{5}", out["claimNo"])
    done = out["claim"]
    assert done["status"] == "SUBMITTED" and done["claimNo"] == out["claimNo"]
    assert [e["kind"] for e in done["timeline"]] == ["CREATED", "SUBMITTED"]
    assert done["timeline"][1] == {
        "kind": "SUBMITTED",
        "statusFrom": "DRAFT",
        "statusTo": "SUBMITTED",
        "actor": "CLAIMANT",
        "channel": "APP",
        "note": "",
    }
    assert done["canWithdraw"] and not done["canResubmit"] and not done["needsAction"]
    assert done["settlementNoticeUrl"] is None and done["signed"]
    # the same key again: the same claim, nothing new
    again = zhang.submit(claim_id, code, "client-key-001")
    assert again["claimNo"] == out["claimNo"] and len(again["claim"]["timeline"]) == 2
    # and the claim is found by `claim` and `node`
    one = zhang(ONE, id=claim_id)["data"]["claim"]
    assert one["claimNo"] == out["claimNo"]
    node = zhang("query($id: ID!) { node(id: $id) { ... on Claim { claimNo } } }", id=claim_id)
    assert node["data"]["node"]["claimNo"] == out["claimNo"]


def test_a_submitted_claim_cannot_be_edited(zhang: Claimant) -> None:
    claim = zhang.submitted()
    out = zhang.basics(claim["id"])
    assert (out["__typename"], out["code"]) == ("ClaimStateError", "CLAIM_STATE_CONFLICT")
    out = zhang.amount(claim["id"])
    assert out["__typename"] == "ClaimStateError"
    doc = claim["documents"][0]["id"]
    out = zhang.run(REMOVE, "removeClaimDocument", documentId=doc)
    assert out["__typename"] == "ClaimStateError"
    out = zhang.run(DISCARD, "discardClaimDraft", claimId=claim["id"])
    assert out["__typename"] == "ClaimStateError"
    out = zhang.submit(claim["id"], "123456", "another-key-1")
    assert out["__typename"] == "ClaimStateError"


def test_drafts_are_resumed_documents_removed_and_drafts_discarded(zhang: Claimant) -> None:
    zhang.contact()
    first = zhang.start("main")["claim"]["id"]
    second = zhang.start("child")["claim"]["id"]
    drafts = zhang(DRAFTS)["data"]["claimDrafts"]["drafts"]
    assert {d["id"] for d in drafts} == {first, second}
    doc = zhang.add_document(first, "INVOICE")
    removed = zhang.run(REMOVE, "removeClaimDocument", documentId=gid("ClaimDocument", doc))
    assert removed["__typename"] == "RemoveClaimDocumentSuccess"
    assert removed["claim"]["documents"] == []
    out = zhang.run(DISCARD, "discardClaimDraft", claimId=first)
    assert out == {"__typename": "DiscardClaimDraftSuccess", "claimId": first}
    assert [d["id"] for d in zhang(DRAFTS)["data"]["claimDrafts"]["drafts"]] == [second]
    out = zhang.run(DISCARD, "discardClaimDraft", claimId=first)
    assert out["__typename"] == "ClaimNotFoundError"


def test_the_main_insured_claims_for_a_minor_child_not_an_adult_dependant(zhang: Claimant) -> None:
    zhang.contact()
    out = zhang.start("spouse")
    assert (out["__typename"], out["code"], out["field"]) == (
        "ClaimRuleError",
        "ADULT_DEPENDANT",
        "policyId",
    )
    child = zhang.start("child")["claim"]
    assert child["relation"] == "CHILD" and child["insured"]["relation"] == "CHILD"
    assert child["applicant"]["name"] == "张*" and child["insured"]["name"] == "张*明"
    out = zhang.basics(child["id"])
    assert out["__typename"] == "ValidationError"
    assert out["fieldErrors"] == [{"field": "relationship", "code": "REQUIRED"}]
    out = zhang.basics(child["id"], relationship="CHILD")
    assert out["__typename"] == "UpdateClaimBasicsSuccess"


def test_the_notice_must_be_accepted_and_the_policy_be_in_force(zhang: Claimant) -> None:
    zhang.contact()
    out = zhang.start("main", notice=False)
    assert (out["code"], out["field"]) == ("NOTICE_NOT_ACCEPTED", "noticeAccepted")
    out = zhang.start("main_matured")
    assert out["code"] == "POLICY_NOT_IN_FORCE"
    for policy_id in (gid("Policy", 987654), "not-an-id", zhang.policy("colleague")):
        out = zhang.run(START, "startClaim", policyId=policy_id, noticeAccepted=True)
        assert (out["__typename"], out["code"]) == ("PolicyNotFoundError", "POLICY_NOT_FOUND")


def test_the_online_limit_is_checked_at_the_amount_step(zhang: Claimant) -> None:
    zhang.contact()
    claim_id = zhang.start("main")["claim"]["id"]
    zhang.basics(claim_id)
    payee = {"bankName": "中国建设银行", "accountNo": "621700121001987"}
    out = zhang.amount(claim_id, "2000.01", payee=payee)
    assert (out["__typename"], out["code"], out["field"]) == (
        "ClaimRuleError",
        "AMOUNT_OVER_LIMIT",
        "invoiceTotal",
    )
    out = zhang.amount(claim_id, "150")
    assert (out["code"], out["field"]) == ("PAYEE_REQUIRED", "payee")
    assert zhang.amount(claim_id, "2000", payee=payee)["claim"]["invoiceTotal"] == "2000.00"


def test_university_year_totals_office_cases_and_excluded_hospital(
    api: Api,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
) -> None:
    zhao = Claimant(api, db_factory, claims, members, demo, STAFF)
    zhao.contact()
    claim_id = zhao.start("staff")["claim"]["id"]
    out = zhao.basics(claim_id, claimType="OUT_OF_TOWN")
    assert out["__typename"] == "ClaimRuleError" and out["code"] == "OFFICE_ONLY"
    assert "医保办" in out["message"] and out["field"] == "claimType"
    out = zhao.basics(claim_id, claimType="OUTPATIENT_CARD", facilityName="南开大学医院")
    assert out["code"] == "FACILITY_EXCLUDED" and "医保办" in out["message"]
    # seed 002 三.2(1) "自然年内门诊累计未达到7500元发生的门诊垫付费用": detected from the total
    out = zhao.basics(claim_id, claimType="OUTPATIENT_ADVANCE")
    assert (out["code"], out["field"]) == ("OFFICE_ONLY", "claimType")
    assert "累计未达到7500元" in out["message"] and "累计 0.00 元" in out["message"]
    # once the year's total (here 8,000 spent outside the platform) passes 7,500
    year = claims.now().astimezone(CHINA_TZ).year
    with db_factory() as s:
        s.add(
            OutpatientYearTotal(
                person_id=demo.people["staff"].person_id,
                year=year,
                amount_fen=8000_00,
                source="医保办 2026-03",
                loaded_at=claims.now(),
            )
        )
        s.commit()
    zhao.basics(claim_id, claimType="OUTPATIENT_ADVANCE")
    payee = {"bankName": "中国银行", "accountNo": "6013820100012345678"}
    # a 3,000-yuan advance payment is online (三.1(2): within 7,500-11,300 of the year)
    out = zhao.amount(claim_id, "3000.00", payee=payee)
    assert out["claim"]["invoiceTotal"] == "3000.00" and out["claim"]["onlineLimit"] is None
    out = zhao.amount(claim_id, "3300.01", payee=payee)
    assert (out["code"], out["field"]) == ("ABOVE_YEAR_BAND", "invoiceTotal")
    assert "3,300.00" in out["message"]
    zhao.amount(claim_id, "3300.00", payee=payee)
    # card-swipe is for a year's total below 7,500
    out = zhao.basics(claim_id, claimType="OUTPATIENT_CARD", facilityName="天津医科大学总医院")
    assert (out["code"], out["field"]) == ("YEAR_TOTAL_REACHED", "claimType")
    # the year's total moving after the steps (more spending loaded) is caught when sending
    for category in ("MEDICAL_RECORD", "INVOICE"):
        zhao.add_document(claim_id, category)
    zhao.sign(claim_id)
    code = zhao.send_code(claim_id)
    with db_factory() as s:
        row = s.query(OutpatientYearTotal).one()
        row.amount_fen += 100
        s.commit()
    out = zhao.submit(claim_id, code, "uni-client-key")
    assert (out["code"], out["field"]) == ("ABOVE_YEAR_BAND", "invoiceTotal")


def test_the_university_declaration_is_accepted_before_sending(
    api: Api,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
) -> None:
    # seed 002 二.1⑤ "阅读授权与声明，点击完成"
    zhao = Claimant(api, db_factory, claims, members, demo, STAFF)
    claim_id = zhao.ready(
        "staff", claim_type="OUTPATIENT_CARD", total="7600.00", facilityName="天津医科大学总医院"
    )
    code = zhao.send_code(claim_id)
    out = zhao.submit(claim_id, code, "uni-declare-1", declaration=False)
    assert (out["code"], out["field"]) == ("DECLARATION_REQUIRED", "declarationVersion")
    out = zhao.submit(claim_id, code, "uni-declare-2")
    assert out["__typename"] == "SubmitClaimSuccess", out
    with db_factory() as s:
        claim = s.get(ClaimRow, pk(claim_id))
        assert claim is not None
        assert claim.declaration_version == "NKU-2019-1"
        assert claim.declaration_accepted_at == claim.submitted_at


def test_an_expired_code_is_refused_and_a_fresh_one_works(
    zhang: Claimant, claims: ClaimContext
) -> None:
    claim_id = zhang.ready()
    code = zhang.send_code(claim_id)
    assert isinstance(claims.clock, FakeClock)
    claims.clock.advance(minutes=5, seconds=1)
    out = zhang.submit(claim_id, code, "expiry-key-01")
    assert out["__typename"] == "SmsCodeInvalidError"
    out = zhang.submit(claim_id, zhang.send_code(claim_id), "expiry-key-01")
    assert out["__typename"] == "SubmitClaimSuccess"


def test_codes_are_rate_limited(zhang: Claimant) -> None:
    claim_id = zhang.ready()
    zhang.send_code(claim_id)
    out = zhang.run(SEND, "sendClaimConfirmationCode", claimId=claim_id)
    assert out["__typename"] == "RetryLaterError" and out["code"] == "SMS_TOO_SOON"
    assert 0 < out["retryAfterSeconds"] <= 120


@pytest.mark.parametrize(
    ("key", "code", "field", "error"),
    [
        ("short", "123456", "clientKey", "INVALID_CLIENT_KEY"),
        ("fine-client-key", "12345", "smsCode", "INVALID_SMS_CODE"),
        ("fine-client-key", "abcdef", "smsCode", "INVALID_SMS_CODE"),
    ],
)
def test_malformed_codes_and_keys_are_validation_errors(
    zhang: Claimant, key: str, code: str, field: str, error: str
) -> None:
    claim_id = zhang.ready()
    out = zhang.submit(claim_id, code, key)
    assert out["__typename"] == "ValidationError"
    assert out["fieldErrors"] == [{"field": field, "code": error}]


def test_one_key_for_two_drafts_is_refused(zhang: Claimant) -> None:
    first = zhang.ready()
    assert zhang.submit(first, zhang.send_code(first), "shared-key-1")["__typename"] == (
        "SubmitClaimSuccess"
    )
    second = zhang.ready("child")
    out = zhang.submit(second, zhang.send_code(second), "shared-key-1")
    assert out["fieldErrors"] == [{"field": "clientKey", "code": "CLIENT_KEY_REUSED"}]


@pytest.mark.parametrize(
    ("over", "field", "code"),
    [
        ({"invoiceTotal": "1.005"}, "invoiceTotal", "INVALID_AMOUNT"),
        ({"invoiceTotal": "0"}, "invoiceTotal", "INVALID_AMOUNT"),
        ({"invoiceTotal": "-3"}, "invoiceTotal", "INVALID_AMOUNT"),
        ({"otherCompensation": "900"}, "otherCompensation", "OVER_INVOICE_TOTAL"),
        ({"invoiceNumbers": ["../etc"]}, "invoiceNumbers", "INVALID_INVOICE_NO"),
        (
            {"payee": {"bankName": "x", "accountNo": "12"}},
            "payee.accountNo",
            "INVALID_BANK_ACCOUNT",
        ),
    ],
)
def test_bad_amount_inputs(zhang: Claimant, over: dict[str, Any], field: str, code: str) -> None:
    zhang.contact()
    claim_id = zhang.start("main")["claim"]["id"]
    args: dict[str, Any] = {
        "claimId": claim_id,
        "invoiceTotal": "500",
        "payee": {"bankName": "中国建设银行", "accountNo": "6217001210019876789"},
    }
    args.update(over)
    out = zhang.run(AMOUNT, "updateClaimAmount", **args)
    assert out["__typename"] == "ValidationError"
    assert {"field": field, "code": code} in out["fieldErrors"]


@pytest.mark.parametrize(
    ("over", "field", "code"),
    [
        ({"incidentDate": "2099-01-01"}, "incidentDate", "DATE_IN_FUTURE"),
        ({"address": " "}, "address", "REQUIRED"),
        ({"facilityName": "x" * 201}, "facilityName", "TOO_LONG"),
    ],
)
def test_bad_basic_information(
    zhang: Claimant, over: dict[str, Any], field: str, code: str
) -> None:
    zhang.contact()
    claim_id = zhang.start("main")["claim"]["id"]
    out = zhang.basics(claim_id, **over)
    assert out["__typename"] == "ValidationError"
    assert out["fieldErrors"] == [{"field": field, "code": code}]


def test_the_incident_date_must_be_within_cover_and_the_type_known(zhang: Claimant) -> None:
    zhang.contact()
    claim_id = zhang.start("main")["claim"]["id"]
    out = zhang.basics(claim_id, incidentDate="2020-05-01")
    assert (out["code"], out["field"]) == ("INCIDENT_OUTSIDE_COVER", "incidentDate")
    out = zhang.basics(claim_id, claimType="SPACE_TRAVEL")
    assert (out["code"], out["field"]) == ("CLAIM_TYPE_UNKNOWN", "claimType")


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"invoiceTotal": "abc"}, "BAD_USER_INPUT"),
        ({"invoiceTotal": None}, "BAD_USER_INPUT"),
    ],
)
def test_malformed_values_are_top_level_input_errors(
    zhang: Claimant, variables: dict[str, Any], expected: str
) -> None:
    zhang.contact()
    claim_id = zhang.start("main")["claim"]["id"]
    body = zhang(AMOUNT, input={"claimId": claim_id, **variables})
    assert [e["extensions"]["code"] for e in body["errors"]] == [expected]
    body = zhang(
        BASICS,
        input={
            "claimId": claim_id,
            "address": "a",
            "incidentType": "FLOOD",
            "incidentDate": "2026-13-01",
            "claimType": "OUTPATIENT",
        },
    )
    assert body["errors"] and all(
        e["extensions"]["code"] == "BAD_USER_INPUT" for e in body["errors"]
    )


def test_another_members_claim_answers_like_a_missing_one(
    zhang: Claimant,
    api: Api,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
) -> None:
    claim = zhang.submitted()
    draft = zhang.ready()
    zhao = Claimant(api, db_factory, claims, members, demo, STAFF)
    missing = gid("Claim", 987_654)
    answers = []
    for claim_id in (claim["id"], draft, missing, "garbage", gid("Policy", pk(claim["id"]))):
        one = zhao(ONE, id=claim_id)["data"]["claim"]
        answers.append((one["__typename"], one["code"], one["message"]))
        out = zhao.basics(claim_id)
        assert out["__typename"] == "ClaimNotFoundError"
        out = zhao.submit(claim_id, "123456", "stranger-key-1")
        assert out["__typename"] == "ClaimNotFoundError"
        node = zhao("query($id: ID!) { node(id: $id) { id } }", id=claim_id)
        assert node["data"]["node"] is None
    assert len(set(answers)) == 1 and answers[0][1] == "CLAIM_NOT_FOUND"
    # the plain integer id is the same claim for its owner, missing for anyone else
    plain = str(pk(claim["id"]))
    assert zhang(ONE, id=plain)["data"]["claim"]["claimNo"] == claim["claimNo"]
    assert zhao(ONE, id=plain)["data"]["claim"]["__typename"] == "ClaimNotFoundError"


QUERIES = [
    "{ claims { __typename ... on Error { code } } }",
    "{ claimDrafts { __typename ... on Error { code } } }",
    "{ claimantProfile { __typename ... on Error { code } } }",
    'query { claim(id: "1") { __typename ... on Error { code } } }',
    'query { claimConfirmation(id: "1") { __typename ... on Error { code } } }',
]


def test_claims_need_a_signed_in_member(api: Api, demo: Any) -> None:
    for query in QUERIES:
        body = api(query)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    body = api(START, input={"policyId": "1", "noticeAccepted": True})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]


def test_claims_need_real_name_verification(
    api: Api,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
) -> None:
    li = Claimant(api, db_factory, claims, members, demo, "13800000003")
    for query in QUERIES:
        data = li(query)["data"]
        assert next(iter(data.values())) == {
            "__typename": "RealNameRequiredError",
            "code": "REAL_NAME_REQUIRED",
        }
    out = li.run(START, "startClaim", policyId=li.policy("colleague"), noticeAccepted=True)
    assert out["__typename"] == "RealNameRequiredError"
    out = li.run(CONTACT, "saveClaimContact", address="上海", email="a@b.cn")
    assert out["__typename"] == "RealNameRequiredError"
    body = li('query { claimRules(policyId: "1") { __typename ... on Error { code } } }')
    assert body["data"]["claimRules"]["code"] == "REAL_NAME_REQUIRED"
    out = li.run(SUBMIT, "submitClaim", claimId="1", smsCode="123456", clientKey="some-key-123")
    assert out["__typename"] == "RealNameRequiredError"
