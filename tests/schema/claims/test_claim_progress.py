"""Progress over GraphQL: lists with filters and paging, claim detail, plan rules."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.wiring import MemberServices
from server.claims import core, links
from server.claims.core import ClaimContext
from server.claims.models import (
    Actor,
    Adjuster,
    Claim,
    ClaimDeduction,
    ClaimLimitOverride,
    ClaimStatus,
)
from tests.db import TEST_VAULT, Api
from tests.schema.claims.helpers import ONE, Claimant, pk
from tests.server.claims.drafts_helpers import image

MAIN = "13800000001"
STAFF = "13800000005"
LIST = """query($status: ClaimStatusFilter, $needs: Boolean, $year: Int, $from: Date, $to: Date,
  $channel: ClaimChannel, $type: String, $first: Int, $after: String) {
  claims(status: $status, needsAction: $needs, year: $year, submittedFrom: $from,
         submittedTo: $to, channel: $channel, claimType: $type, first: $first, after: $after) {
    __typename
    ... on ClaimConnection { totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { id claimNo status needsAction } } }
    ... on Error { code }
    ... on ValidationError { fieldErrors { field code } }
  }
}"""
RULES = """query($id: ID!) { claimRules(policyId: $id) { __typename
  ... on ClaimRules { code name onlineLimit limitRaised limitNote regionRequired
    originalsNotNeededUpTo settlementWorkingDays paymentWorkingDays
    claimForMinorChildren claimForAdultDependants policy { policyNo }
    claimTypes { code name minAmount maxAmount required { code name hint } optional { code }
      excludedFacilities excludedReason }
    officeOnly { code name reason reasonEn }
    outpatientYear { year total fromClaims loadedByAdministrator cardOnline advanceOnline
      advanceRoom meaning meaningEn }
    declaration { version text textEn }
    claimableFor { policy { id policyNo } name relation isMinor allowed refusalCode refusal } }
  ... on Error { code } } }"""


@pytest.fixture
def zhang(
    api: Api,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
) -> Claimant:
    return Claimant(api, db_factory, claims, members, demo, MAIN)


@pytest.fixture
def adjuster(db_factory: sessionmaker[Session]) -> int:
    with db_factory() as s:
        a = Adjuster(
            username="progress-reviewer",
            display_name_enc=TEST_VAULT.encrypt("王审核"),
            password_hash="x",
        )
        s.add(a)
        s.commit()
        return a.id


def _as_adjuster(
    factory: sessionmaker[Session], cx: ClaimContext, claim_id: str, to: ClaimStatus, who: int
) -> None:
    with factory() as s:
        claim = s.get(Claim, pk(claim_id))
        assert claim is not None
        core.transition(s, claim, to, to.name, actor=Actor.ADJUSTER, actor_id=who, now=cx.now())
        if to is ClaimStatus.SETTLED:
            claim.approved_fen = 400_00
            claim.paid_fen = 400_00
            claim.decided_at = cx.now()
            claim.deductions = [ClaimDeduction(amount_fen=100_00, reason="自费药品不予赔付")]
        if to is ClaimStatus.REJECTED:
            claim.decision_reason = "不在保障范围内"
        s.commit()


def test_the_list_filters_and_pages_newest_first(
    zhang: Claimant, claims: ClaimContext, db_factory: sessionmaker[Session], adjuster: int
) -> None:
    a = zhang.submitted()
    b = zhang.submitted("child")
    c = zhang.submitted()
    _as_adjuster(db_factory, claims, c["id"], ClaimStatus.UNDER_REVIEW, adjuster)
    _as_adjuster(db_factory, claims, c["id"], ClaimStatus.SETTLED, adjuster)
    zhang.start("main")  # drafts are not listed

    def ids(**variables: Any) -> list[str]:
        out = zhang(LIST, **variables)["data"]["claims"]
        assert out["__typename"] == "ClaimConnection", out
        return [e["node"]["id"] for e in out["edges"]]

    assert ids() == [c["id"], b["id"], a["id"]]
    assert ids(status="SUBMITTED") == [b["id"], a["id"]]
    assert ids(status="SETTLED") == [c["id"]]
    for status in ("UNDER_REVIEW", "PENDING_SUPPLEMENT", "REJECTED", "WITHDRAWN"):
        assert ids(status=status) == []
    year = claims.now().year
    assert len(ids(year=year)) == 3 and ids(year=year - 1) == []
    today = claims.now().astimezone(datetime.timezone(datetime.timedelta(hours=8))).date()
    assert len(ids(**{"from": today.isoformat(), "to": today.isoformat()})) == 3
    assert ids(to=(today - datetime.timedelta(days=1)).isoformat()) == []
    assert len(ids(channel="APP")) == 3 and ids(channel="WECHAT") == []
    assert len(ids(type="OUTPATIENT")) == 3 and ids(type="DENTAL") == []
    # paging with cursors
    page = zhang(LIST, first=2)["data"]["claims"]
    assert page["totalCount"] == 3 and page["pageInfo"]["hasNextPage"]
    rest = zhang(LIST, first=2, after=page["pageInfo"]["endCursor"])["data"]["claims"]
    assert [e["node"]["id"] for e in rest["edges"]] == [a["id"]]
    assert rest["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize(
    ("variables", "field"),
    [({"first": 0}, "first"), ({"first": 101}, "first"), ({"year": 1899}, "year")],
)
def test_bad_list_arguments_are_validation_errors(
    zhang: Claimant, variables: dict[str, Any], field: str
) -> None:
    out = zhang(LIST, **variables)["data"]["claims"]
    assert out["__typename"] == "ValidationError"
    assert out["fieldErrors"][0]["field"] == field


def test_a_forged_cursor_is_a_top_level_input_error(zhang: Claimant) -> None:
    body = zhang(LIST, after="bm90LWEtY3Vyc29y")
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


def test_problem_handling_lists_supplements_and_problem_images_with_details(
    zhang: Claimant, claims: ClaimContext, db_factory: sessionmaker[Session], adjuster: int
) -> None:
    from server.claims import supplements

    quiet = zhang.submitted()
    pending = zhang.submitted()
    problem = zhang.submitted()
    with db_factory() as s:
        who = s.get(Adjuster, adjuster)
        claim = s.get(Claim, pk(pending["id"]))
        assert who is not None and claim is not None
        supplements.request_supplement(s, claims, who, claim, ["INVOICE"], "请补充清晰的发票照片")
        bad = s.get(Claim, pk(problem["id"]))
        assert bad is not None
        core.active_documents(bad)[0].problem_reason = "影像模糊，请重新拍摄"
        s.commit()
    out = zhang(LIST, needs=True)["data"]["claims"]
    assert [e["node"]["id"] for e in out["edges"]] == [problem["id"], pending["id"]]
    assert all(e["node"]["needsAction"] for e in out["edges"])
    detail = zhang(ONE, id=pending["id"])["data"]["claim"]
    assert detail["status"] == "PENDING_SUPPLEMENT"
    assert detail["supplement"]["instructions"] == "请补充清晰的发票照片"
    assert [c["code"] for c in detail["supplement"]["categories"]] == ["INVOICE"]
    assert detail["supplement"]["deadline"] > claims.now().date().isoformat()
    assert detail["timeline"][-1]["kind"] == "SUPPLEMENT_REQUESTED"
    detail = zhang(ONE, id=problem["id"])["data"]["claim"]
    assert detail["problemImages"][0]["problemReason"] == "影像模糊，请重新拍摄"
    assert detail["canResubmit"]
    assert zhang(ONE, id=quiet["id"])["data"]["claim"]["needsAction"] is False


def test_the_settlement_notice_links_only_for_settled_claims(
    zhang: Claimant, claims: ClaimContext, db_factory: sessionmaker[Session], adjuster: int
) -> None:
    settled = zhang.submitted()
    rejected = zhang.submitted()
    withdrawn = zhang.submitted()
    _as_adjuster(db_factory, claims, settled["id"], ClaimStatus.SETTLED, adjuster)
    _as_adjuster(db_factory, claims, rejected["id"], ClaimStatus.REJECTED, adjuster)
    _as_adjuster(db_factory, claims, withdrawn["id"], ClaimStatus.WITHDRAWN, adjuster)
    one = zhang(ONE, id=settled["id"])["data"]["claim"]
    assert one["approvedAmount"] == "400.00" and one["paidAmount"] == "400.00"
    assert one["deductions"] == [{"amount": "100.00", "reason": "自费药品不予赔付"}]
    for url, kind in (
        (one["settlementNoticeUrl"], "notice-html"),
        (one["settlementNoticePdfUrl"], "notice-pdf"),
    ):
        token = url.rsplit("/claim-files/", 1)[1]
        link = links.read(claims.settings.secret_key, token, claims.now())
        assert link is not None
        assert (link.kind, link.object_id) == (kind, pk(settled["id"]))
        with db_factory() as s:
            session = claims.sessions.find(s, link.session_id)
        assert session is not None and session.kind == "member"
    for other in (rejected, withdrawn):
        one = zhang(ONE, id=other["id"])["data"]["claim"]
        assert one["settlementNoticeUrl"] is None and one["settlementNoticePdfUrl"] is None
    assert zhang(ONE, id=rejected["id"])["data"]["claim"]["decisionReason"] == "不在保障范围内"


def test_duplicates_are_shown_to_the_claimant(zhang: Claimant) -> None:
    photo = image()
    first = zhang.ready()
    zhang.add_document(first, "OTHER", photo)
    zhang.amount(first, invoiceNumbers=["DUP-77"])
    zhang.submit(first, zhang.send_code(first))
    second = zhang.ready()
    zhang.add_document(second, "OTHER", photo)
    zhang.amount(second, invoiceNumbers=["dup-77"])
    out = zhang.submit(second, zhang.send_code(second))["claim"]
    first_no = zhang(ONE, id=first)["data"]["claim"]["claimNo"]
    assert out["duplicateSuspected"]
    assert sorted(out["duplicates"], key=lambda d: d["basis"]) == [
        {"basis": "IMAGE", "otherClaimNo": first_no, "invoiceNo": None},
        {"basis": "INVOICE_NO", "otherClaimNo": first_no, "invoiceNo": "DUP-77"},
    ]


def test_the_rules_of_the_default_plan_and_who_can_be_claimed_for(zhang: Claimant) -> None:
    out = zhang(RULES, id=zhang.policy("main"))["data"]["claimRules"]
    assert out["__typename"] == "ClaimRules" and out["code"] == "DEFAULT"
    assert out["onlineLimit"] == "2000.00" and out["limitRaised"] is False
    assert out["originalsNotNeededUpTo"] == "2000.00" and out["settlementWorkingDays"] == 10
    assert out["claimForMinorChildren"] and not out["claimForAdultDependants"]
    outpatient = out["claimTypes"][0]
    assert outpatient["code"] == "OUTPATIENT" and outpatient["minAmount"] is None
    assert [c["code"] for c in outpatient["required"]] == ["MEDICAL_RECORD", "INVOICE"]
    assert outpatient["required"][0]["hint"]
    assert out["officeOnly"] == []
    who = {p["policy"]["policyNo"]: p for p in out["claimableFor"]}
    assert who["DEMO-G-0001-01"]["allowed"] and who["DEMO-G-0001-01"]["relation"] == "SELF"
    assert who["DEMO-G-0001-02"]["refusalCode"] == "ADULT_DEPENDANT"
    assert who["DEMO-G-0001-02"]["name"] == "王*" and not who["DEMO-G-0001-02"]["allowed"]
    assert who["DEMO-G-0001-03"]["allowed"] and who["DEMO-G-0001-03"]["isMinor"]
    assert who["DEMO-G-0000-01"]["refusalCode"] == "POLICY_NOT_IN_FORCE"


def test_the_university_rules_and_a_raised_limit(
    api: Api,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
    adjuster: int,
) -> None:
    zhao = Claimant(api, db_factory, claims, members, demo, STAFF)
    out = zhao(RULES, id=zhao.policy("staff"))["data"]["claimRules"]
    assert out["code"] == "NKU-STAFF" and out["onlineLimit"] is None
    bands = {t["code"]: (t["minAmount"], t["maxAmount"]) for t in out["claimTypes"]}
    # no per-claim bands: the year's outpatient total decides (below)
    assert bands == {
        "OUTPATIENT_CARD": (None, None),
        "OUTPATIENT_ADVANCE": (None, None),
        "SPECIAL_OUTPATIENT": (None, None),
        "INPATIENT": (None, None),
        "INPATIENT_RESIDENT_ELSEWHERE": (None, None),  # 三.1(4) 异地安置职工异地联网住院
    }
    assert out["claimTypes"][0]["excludedFacilities"] == ["南开大学医院"]
    assert {o["code"] for o in out["officeOnly"]} == {
        "OUTPATIENT_ADVANCE_BELOW_7500",
        "EMERGENCY_OBSERVATION",
        "OUT_OF_TOWN",
    }
    assert all("医保办" in o["reason"] and o["reasonEn"] for o in out["officeOnly"])
    # the member sees this year's outpatient total and what it allows, before starting
    year = out["outpatientYear"]
    assert (year["total"], year["cardOnline"], year["advanceOnline"]) == ("0.00", True, False)
    assert "未达 7,500.00 元" in year["meaning"] and "below CNY 7,500.00" in year["meaningEn"]
    assert out["declaration"]["version"] == "NKU-2019-1" and out["declaration"]["textEn"]
    with db_factory() as s:
        s.add(
            ClaimLimitOverride(
                person_id=demo.people["staff"].person_id, limit_fen=9000_00, set_by=adjuster
            )
        )
        s.commit()
    out = zhao(RULES, id=zhao.policy("staff"))["data"]["claimRules"]
    assert (out["onlineLimit"], out["limitRaised"]) == ("9000.00", True)
    # another member's policy, or none, answers as missing
    for policy_id in (zhao.policy("main"), "UG9saWN5Ojk5OTk5", "x"):
        out = zhao(RULES, id=policy_id)["data"]["claimRules"]
        assert out == {"__typename": "PolicyNotFoundError", "code": "POLICY_NOT_FOUND"}
