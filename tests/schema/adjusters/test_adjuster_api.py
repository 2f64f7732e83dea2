"""The back office over GraphQL: sign-in, separation from members, queue, view, decisions."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session, sessionmaker
from strawberry import relay

from server.claims import supplements
from server.claims.core import ClaimContext
from server.claims.models import Actor, Channel, Claim, ClaimLimitOverride, ClaimStatus
from server.notify.outbox import Notification
from tests.db import Api, FakeClock, statements, writes
from tests.schema.accounts.helpers import codes, log_in
from tests.server.claims.files_helpers import link_of
from tests.server.claims.review_helpers import (
    ACCOUNT_NO,
    ADJUSTER_PASSWORD,
    attach,
    make_adjuster,
    make_claim,
)

LOG_IN = """mutation($u: String!, $p: String!) {
  adjusterLogIn(input: {username: $u, password: $p}) {
    __typename
    ... on AdjusterSignInSuccess { token adjuster { username displayName } }
    ... on Error { code message }
    ... on RetryLaterError { retryAfterSeconds }
  }
}"""
ME = "{ adjusterMe { username displayName } }"
QUEUE = """query($f: AdjusterQueueFilter, $first: Int!, $after: String) {
  adjusterQueue(filter: $f, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id claimNo status insuredName amountClaimed hasUnseenSupplement
                          claimType claimTypeName planRules duplicateSuspected } }
  }
}"""
CLAIM_FIELDS = """
  id claimNo status insuredName insuredIdNumber applicantPhone contactEmail policyNo
  claimType documentCategories { code } requiredCategories amountClaimed
  payee { bankName holderName accountNo }
  documents { id category url thumbnailUrl problemReason }
  timeline { kind note actor statusFrom statusTo }
  supplements { request { instructions deadline remark categories { code } }
                fulfilledVia documents { id } }
  newSupplementArrival duplicates { basis otherClaimNo }
  deductions { amount reason } approvedAmount paidAmount decisionReason decidedBy
"""
CLAIM = "query($id: ID!) { adjusterClaim(id: $id) { " + CLAIM_FIELDS + " } }"
ERR = "... on Error { code message } ... on ValidationError { fieldErrors { field code } }"
START = (
    "mutation($id: ID!) { startClaimReview(input: {claimId: $id}) { __typename "
    "... on StartClaimReviewSuccess { claim { status } } ... on Error { code message } } }"
)
REQUEST = (
    "mutation($id: ID!, $c: [String!]!, $i: String!) { requestClaimSupplement(input: "
    "{claimId: $id, categories: $c, instructions: $i}) { __typename "
    "... on RequestClaimSupplementSuccess { deadline claim { status timeline { kind } } } "
    "... on AdjusterClaimRuleError { field } " + ERR + " } }"
)
MARK = (
    "mutation($id: ID!, $images: [ProblemImageInput!]!) { markProblemImages(input: "
    "{claimId: $id, images: $images}) { __typename "
    "... on MarkProblemImagesSuccess { claim { documents { id problemReason } } } " + ERR + " } }"
)
SETTLE = (
    "mutation($input: SettleClaimInput!) { settleClaim(input: $input) { __typename "
    "... on SettleClaimSuccess { claim { status approvedAmount paidAmount deductions "
    "{ amount reason } timeline { kind note } decidedBy } } "
    "... on AdjusterClaimRuleError { field } " + ERR + " } }"
)
REJECT = (
    "mutation($id: ID!, $r: String!) { rejectClaim(input: {claimId: $id, reason: $r}) "
    "{ __typename ... on RejectClaimSuccess { claim { status decisionReason } } " + ERR + " } }"
)
LIMIT = (
    "mutation($input: RaiseClaimLimitInput!) { raiseClaimLimit(input: $input) { __typename "
    "... on RaiseClaimLimitSuccess { limit setAt } " + ERR + " } }"
)


def gid(claim: Claim) -> str:
    return relay.to_base64("Claim", claim.id)


def doc_gid(document_id: int) -> str:
    return relay.to_base64("ClaimDocument", document_id)


@pytest.fixture
def desk(db_factory: sessionmaker[Session], claims: ClaimContext, demo: Any) -> dict[str, Any]:
    """An adjuster and two sent claims, committed so the app's requests see them."""
    with db_factory() as s:
        make_adjuster(s, claims)
        first = make_claim(s, claims, demo)
        second = make_claim(s, claims, demo, claim_type="INPATIENT", amount_fen=1500_00)
        draft = make_claim(s, claims, demo, status=ClaimStatus.DRAFT)
        docs = {c.id: [d.id for d in c.documents] for c in (first, second)}
        s.commit()
        return {"first": first, "second": second, "draft": draft, "docs": docs}


def sign_in(api: Api, username: str = "wang.fang", password: str = ADJUSTER_PASSWORD) -> str:
    out = api(LOG_IN, u=username, p=password)["data"]["adjusterLogIn"]
    assert out["__typename"] == "AdjusterSignInSuccess", out
    return str(out["token"])


# --- sign-in and separation from members ------------------------------------------------------


def test_an_adjuster_signs_in_sees_themself_and_signs_out(api: Api, desk: dict[str, Any]) -> None:
    token = sign_in(api, username="WANG.FANG")
    assert api(ME, token=token)["data"]["adjusterMe"] == {
        "username": "wang.fang",
        "displayName": "王芳",
    }
    out = api("mutation { adjusterLogOut { ok } }", token=token)
    assert out["data"]["adjusterLogOut"] == {"ok": True}
    assert codes(api(ME, token=token)) == ["UNAUTHENTICATED"]


def test_back_office_reads_write_nothing_to_the_session(
    api: Api, desk: dict[str, Any], db_connection: Connection, clock: FakeClock
) -> None:
    # given a signed-in adjuster
    token = sign_in(api)
    # when they read the queue and themselves again and again within the minute
    with statements(db_connection) as seen:
        for _ in range(10):
            clock.advance(seconds=2)
            assert "errors" not in api(QUEUE, token=token, first=5)
            assert "errors" not in api(ME, token=token)
    # then not one row was written (but the charge of each read's cost to the budget,
    # server/api_budget.py)
    assert seen and [s for s in writes(seen) if "rate_limit" not in s.lower()] == []
    # and a read after the minute moves the idle clock, once
    clock.advance(seconds=45)
    with statements(db_connection) as seen:
        api(ME, token=token)
        api(ME, token=token)
    assert [w.split()[1].lower() for w in writes(seen) if "rate_limit" not in w.lower()] == [
        "login_session"
    ]


def test_file_links_end_with_the_adjuster_session(api: Api, desk: dict[str, Any]) -> None:
    token = sign_in(api)
    view = api(CLAIM, token=token, id=gid(desk["first"]))["data"]["adjusterClaim"]
    url = view["documents"][0]["url"]
    link = "/" + url.split("://", 1)[1].split("/", 1)[1]
    assert api.client.get(link).status_code == 200
    api("mutation { adjusterLogOut { ok } }", token=token)
    assert api.client.get(link).status_code == 404


def test_wrong_credentials_fail_alike_and_are_throttled(api: Api, desk: dict[str, Any]) -> None:
    wrong = api(LOG_IN, u="wang.fang", p="Wrong-2026!")["data"]["adjusterLogIn"]
    unknown = api(LOG_IN, u="nobody", p=ADJUSTER_PASSWORD)["data"]["adjusterLogIn"]
    assert wrong["__typename"] == unknown["__typename"] == "LoginFailedError"
    assert wrong["message"] == unknown["message"] and wrong["code"] == "LOGIN_FAILED"
    api(LOG_IN, u="wang.fang", p="Wrong-2026!")
    api(LOG_IN, u="wang.fang", p="Wrong-2026!")
    locked = api(LOG_IN, u="wang.fang", p=ADJUSTER_PASSWORD)["data"]["adjusterLogIn"]
    assert locked["__typename"] == "RetryLaterError" and locked["code"] == "LOGIN_LOCKED"
    assert locked["retryAfterSeconds"] > 0


def test_member_and_adjuster_tokens_do_not_cross(api: Api, desk: dict[str, Any]) -> None:
    member = log_in(api, "13800000001")
    adjuster = sign_in(api)
    first = desk["first"]
    # a member's token opens nothing in the back office
    assert codes(api(ME, token=member)) == ["UNAUTHENTICATED"]
    assert codes(api(QUEUE, token=member, first=5)) == ["UNAUTHENTICATED"]
    assert codes(api(CLAIM, token=member, id=gid(first))) == ["UNAUTHENTICATED"]
    out = api(REQUEST, token=member, id=gid(first), c=["INVOICE"], i="补发票")
    assert codes(out) == ["UNAUTHENTICATED"] and out["data"] is None
    assert codes(api(REJECT, token=member, id=gid(first), r="不赔")) == ["UNAUTHENTICATED"]
    # an adjuster's token is no member
    assert codes(api("{ viewer { mobile } }", token=adjuster)) == ["UNAUTHENTICATED"]
    # and no token at all is no one
    assert codes(api(QUEUE, token="", first=5)) == ["UNAUTHENTICATED"]
    assert codes(api(START, token="", id=gid(first))) == ["UNAUTHENTICATED"]
    # the member's attempts changed nothing
    queue = api(QUEUE, token=adjuster, first=5)["data"]["adjusterQueue"]
    assert [e["node"]["status"] for e in queue["edges"]] == ["SUBMITTED", "SUBMITTED"]


# --- the queue and the view ------------------------------------------------------------------


def test_the_queue_pages_filters_and_masks(api: Api, desk: dict[str, Any]) -> None:
    api.token = sign_in(api)
    page = api(QUEUE, first=1)["data"]["adjusterQueue"]
    assert page["totalCount"] == 2 and page["pageInfo"]["hasNextPage"]
    [edge] = page["edges"]
    assert edge["node"]["id"] == gid(desk["first"])
    assert edge["node"]["insuredName"] == "张*"
    assert edge["node"]["amountClaimed"] == "1200.00"
    assert (edge["node"]["claimType"], edge["node"]["claimTypeName"]) == ("OUTPATIENT", "门急诊")
    rest = api(QUEUE, first=1, after=page["pageInfo"]["endCursor"])["data"]["adjusterQueue"]
    assert [e["node"]["id"] for e in rest["edges"]] == [gid(desk["second"])]
    assert not rest["pageInfo"]["hasNextPage"]
    only = api(QUEUE, first=10, f={"claimType": "INPATIENT"})["data"]["adjusterQueue"]
    assert [e["node"]["id"] for e in only["edges"]] == [gid(desk["second"])]
    none = api(QUEUE, first=10, f={"statuses": ["SETTLED"]})["data"]["adjusterQueue"]
    assert none["totalCount"] == 0 and none["pageInfo"]["endCursor"] is None
    # bad paging and filters are the caller's input errors
    assert codes(api(QUEUE, first=0)) == ["BAD_USER_INPUT"]
    assert codes(api(QUEUE, first=101)) == ["BAD_USER_INPUT"]
    assert codes(api(QUEUE, first=5, after="garbage")) == ["BAD_USER_INPUT"]
    assert codes(api(QUEUE, first=5, f={"statuses": ["DRAFT"]})) == ["BAD_USER_INPUT"]
    assert codes(api(QUEUE, first=5, f={"statuses": ["NOPE"]})) == ["BAD_USER_INPUT"]
    bad_range = {"submittedFrom": "2026-03-02", "submittedTo": "2026-03-01"}
    assert codes(api(QUEUE, first=5, f=bad_range)) == ["BAD_USER_INPUT"]


def test_the_full_view_of_a_claim(
    api: Api,
    desk: dict[str, Any],
    demo: Any,
    claims: ClaimContext,
    db_factory: sessionmaker[Session],
) -> None:
    api.token = sign_in(api)
    view = api(CLAIM, id=gid(desk["first"]))["data"]["adjusterClaim"]
    assert view["insuredName"] == "张伟"
    id_number = demo.people["main"].id_number
    assert view["insuredIdNumber"] != id_number and view["insuredIdNumber"][-4:] == id_number[-4:]
    assert view["applicantPhone"] == "138****0001"
    assert view["contactEmail"] == "z***@example.com"
    assert view["payee"]["accountNo"].endswith(ACCOUNT_NO[-4:])
    assert ACCOUNT_NO not in str(view)
    assert view["requiredCategories"] == ["MEDICAL_RECORD", "INVOICE"]
    assert {c["code"] for c in view["documentCategories"]} == {
        "MEDICAL_RECORD",
        "INVOICE",
        "ACCIDENT_PROOF",
        "OTHER",
    }
    assert len(view["documents"]) == 2
    for d in view["documents"]:
        link, viewer, _ = link_of(db_factory, claims, d["url"])
        assert (link.kind, viewer) == ("doc", "adjuster")
    # the id is the same as the numeric one; drafts, unknown and other kinds of ids are null
    assert api(CLAIM, id=str(desk["first"].id))["data"]["adjusterClaim"]["id"] == view["id"]
    for other in (gid(desk["draft"]), relay.to_base64("Claim", 999999), "garbage", doc_gid(1)):
        assert api(CLAIM, id=other)["data"]["adjusterClaim"] is None


# --- decisions -------------------------------------------------------------------------------


def test_start_review_then_a_conflict(api: Api, desk: dict[str, Any]) -> None:
    api.token = sign_in(api)
    out = api(START, id=gid(desk["first"]))["data"]["startClaimReview"]
    assert out == {"__typename": "StartClaimReviewSuccess", "claim": {"status": "UNDER_REVIEW"}}
    again = api(START, id=gid(desk["first"]))["data"]["startClaimReview"]
    assert (again["__typename"], again["code"]) == (
        "AdjusterClaimStateError",
        "CLAIM_STATE_CONFLICT",
    )
    missing = api(START, id="garbage")["data"]["startClaimReview"]
    assert (missing["__typename"], missing["code"]) == (
        "AdjusterClaimNotFoundError",
        "CLAIM_NOT_FOUND",
    )
    draft = api(START, id=gid(desk["draft"]))["data"]["startClaimReview"]
    assert draft["__typename"] == "AdjusterClaimNotFoundError"


def test_request_a_supplement_and_see_it_arrive(
    api: Api,
    desk: dict[str, Any],
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
) -> None:
    api.token = sign_in(api)
    first = desk["first"]
    out = api(REQUEST, id=gid(first), c=["INVOICE"], i="请补充发票")["data"][
        "requestClaimSupplement"
    ]
    assert out["__typename"] == "RequestClaimSupplementSuccess"
    assert out["deadline"] == "2026-03-04"  # Monday 2 March + 2 working days
    assert out["claim"]["status"] == "PENDING_SUPPLEMENT"
    assert out["claim"]["timeline"][-1]["kind"] == "SUPPLEMENT_REQUESTED"
    with db_factory() as s:
        keys = set(s.scalars(select(Notification.dedupe_key)))
        assert {k.rsplit(":", 1)[1] for k in keys} == {"sms", "email"}
    # asking again while it waits is a conflict
    again = api(REQUEST, id=gid(first), c=["INVOICE"], i="再补")["data"]["requestClaimSupplement"]
    assert (again["__typename"], again["code"]) == (
        "AdjusterClaimStateError",
        "CLAIM_STATE_CONFLICT",
    )
    # a category the claim type does not have, or no instructions, are refused
    second = desk["second"]
    wrong = api(REQUEST, id=gid(second), c=["NOPE"], i="补")["data"]["requestClaimSupplement"]
    assert (wrong["__typename"], wrong["code"], wrong["field"]) == (
        "AdjusterClaimRuleError",
        "CATEGORY_NOT_ALLOWED",
        "categories",
    )
    empty = api(REQUEST, id=gid(second), c=["INVOICE"], i=" ")["data"]["requestClaimSupplement"]
    assert empty["__typename"] == "ValidationError"
    assert empty["fieldErrors"] == [{"field": "instructions", "code": "REQUIRED"}]
    # when the claimant answers (as the app or the H5 page does)
    with db_factory() as s:
        claim = s.get(Claim, first.id)
        assert claim is not None
        attach(s, claims, claim, "INVOICE")
        supplements.fulfil(
            s,
            claims,
            claim,
            remark="已补发票",
            channel=Channel.H5,
            actor=Actor.CLAIMANT,
            actor_id=None,
        )
        s.commit()
    # then the queue shows it first, flagged
    queue = api(QUEUE, first=10)["data"]["adjusterQueue"]["edges"]
    assert [(e["node"]["id"], e["node"]["hasUnseenSupplement"]) for e in queue] == [
        (gid(first), True),
        (gid(second), False),
    ]
    # and opening it shows the remark and the files, and marks the arrival seen
    view = api(CLAIM, id=gid(first))["data"]["adjusterClaim"]
    assert view["newSupplementArrival"] is True
    [supplement] = view["supplements"]
    assert supplement["request"]["remark"] == "已补发票"
    assert supplement["fulfilledVia"] == "H5" and len(supplement["documents"]) == 1
    assert view["timeline"][-1]["kind"] == "SUPPLEMENT_RECEIVED"
    assert api(CLAIM, id=gid(first))["data"]["adjusterClaim"]["newSupplementArrival"] is False
    queue = api(QUEUE, first=10)["data"]["adjusterQueue"]["edges"]
    assert not any(e["node"]["hasUnseenSupplement"] for e in queue)


def test_mark_problem_images(api: Api, desk: dict[str, Any]) -> None:
    api.token = sign_in(api)
    first = desk["first"]
    invoice = desk["docs"][first.id][1]
    out = api(MARK, id=gid(first), images=[{"documentId": doc_gid(invoice), "reason": "发票模糊"}])
    result = out["data"]["markProblemImages"]
    assert result["__typename"] == "MarkProblemImagesSuccess"
    reasons = {d["id"]: d["problemReason"] for d in result["claim"]["documents"]}
    assert reasons[doc_gid(invoice)] == "发票模糊"
    other = desk["docs"][desk["second"].id][0]
    for images, field in (
        ([{"documentId": doc_gid(other), "reason": "模糊"}], "images[0].documentId"),
        ([{"documentId": "garbage", "reason": "模糊"}], "images[0].documentId"),
        ([{"documentId": doc_gid(invoice), "reason": ""}], "images[0].reason"),
        ([], "images"),
    ):
        bad = api(MARK, id=gid(first), images=images)["data"]["markProblemImages"]
        assert bad["__typename"] == "ValidationError", images
        assert bad["fieldErrors"][0]["field"] == field


def test_settle_with_deductions(api: Api, desk: dict[str, Any]) -> None:
    api.token = sign_in(api)
    first = desk["first"]
    good = {
        "claimId": gid(first),
        "approvedAmount": "1000.50",
        "paidAmount": "1000.50",
        "deductions": [{"amount": "199.50", "reason": "自费药品"}],
        "note": "按比例赔付",
    }
    # amounts that do not add up are refused with the field at fault
    off = api(SETTLE, input=good | {"paidAmount": "1000.00"})["data"]["settleClaim"]
    assert (off["__typename"], off["code"], off["field"]) == (
        "AdjusterClaimRuleError",
        "AMOUNTS_INCONSISTENT",
        "paidAmount",
    )
    fractions = api(SETTLE, input=good | {"approvedAmount": "1000.505"})["data"]["settleClaim"]
    assert fractions["__typename"] == "ValidationError"
    assert fractions["fieldErrors"] == [{"field": "approvedAmount", "code": "INVALID_AMOUNT"}]
    nan = api(SETTLE, input=good | {"approvedAmount": "NaN"})["data"]["settleClaim"]
    assert nan["fieldErrors"] == [{"field": "approvedAmount", "code": "INVALID_AMOUNT"}]
    assert codes(api(SETTLE, input=good | {"approvedAmount": "lots"})) == ["BAD_USER_INPUT"]
    # when the amounts are right
    out = api(SETTLE, input=good)["data"]["settleClaim"]
    assert out["__typename"] == "SettleClaimSuccess"
    claim = out["claim"]
    assert (claim["status"], claim["approvedAmount"], claim["paidAmount"]) == (
        "SETTLED",
        "1000.50",
        "1000.50",
    )
    assert claim["deductions"] == [{"amount": "199.50", "reason": "自费药品"}]
    assert claim["timeline"][-1]["kind"] == "SETTLED"
    assert "按比例赔付" in claim["timeline"][-1]["note"] and claim["decidedBy"] == "王芳"
    again = api(SETTLE, input=good)["data"]["settleClaim"]
    assert again["__typename"] == "AdjusterClaimStateError"


def test_reject_needs_a_reason(api: Api, desk: dict[str, Any]) -> None:
    api.token = sign_in(api)
    blank = api(REJECT, id=gid(desk["first"]), r="  ")["data"]["rejectClaim"]
    assert blank["__typename"] == "ValidationError"
    assert blank["fieldErrors"] == [{"field": "reason", "code": "REQUIRED"}]
    out = api(REJECT, id=gid(desk["first"]), r="不属于保险责任")["data"]["rejectClaim"]
    assert out["claim"] == {"status": "REJECTED", "decisionReason": "不属于保险责任"}


def test_raise_the_limit_by_claim_or_policy_number(
    api: Api, desk: dict[str, Any], db_factory: sessionmaker[Session], demo: Any
) -> None:
    api.token = sign_in(api)
    by_claim = api(LIMIT, input={"claimId": gid(desk["first"]), "limit": "5000", "reason": "住院"})
    assert by_claim["data"]["raiseClaimLimit"]["limit"] == "5000.00"
    by_policy = api(
        LIMIT, input={"policyNo": "DEMO-G-0001-01", "limit": "6000.00", "reason": "复核"}
    )["data"]["raiseClaimLimit"]
    assert by_policy["__typename"] == "RaiseClaimLimitSuccess"
    with db_factory() as s:
        [row] = s.scalars(select(ClaimLimitOverride)).all()
        assert (row.person_id, row.limit_fen) == (demo.people["main"].person_id, 6000_00)
    view = api(CLAIM, id=gid(desk["first"]))["data"]["adjusterClaim"]
    assert view is not None
    both = {"claimId": gid(desk["first"]), "policyNo": "DEMO-G-0001-01"}
    for bad, typename in (
        ({"limit": "5000", "reason": "x"}, "ValidationError"),
        (both | {"limit": "5000", "reason": "x"}, "ValidationError"),
        ({"policyNo": "NO-SUCH", "limit": "5000", "reason": "x"}, "AdjusterClaimNotFoundError"),
        ({"policyNo": "DEMO-G-0001-01", "limit": "-1", "reason": "x"}, "ValidationError"),
        ({"policyNo": "DEMO-G-0001-01", "limit": "0.001", "reason": "x"}, "ValidationError"),
        ({"policyNo": "DEMO-G-0001-01", "limit": "5000", "reason": ""}, "ValidationError"),
    ):
        assert api(LIMIT, input=bad)["data"]["raiseClaimLimit"]["__typename"] == typename, bad
