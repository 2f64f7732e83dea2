"""The back office over GraphQL: a paper claim entered, its scans uploaded over HTTP, sent,
settled and paid; the awaiting-payment list; typed errors."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from server.claims.core import ClaimContext
from server.policies.records import add_person, add_policy, resident_id
from tests.db import Api, FakeClock
from tests.server.claims.review_helpers import ADJUSTER_PASSWORD, make_adjuster, png

ID_NUMBER = resident_id("310101", datetime.date(1975, 5, 6), "055")
ERR = "... on Error { code message } ... on ValidationError { fieldErrors { field code } }"
LOG_IN = (
    "mutation($u: String!, $p: String!) { adjusterLogIn(input: {username: $u, password: $p}) "
    "{ __typename ... on AdjusterSignInSuccess { token } } }"
)
ENTER = (
    "mutation($input: EnterPaperClaimInput!) { enterPaperClaim(input: $input) { __typename "
    "... on EnterPaperClaimSuccess { claimId uploadUrl } "
    "... on AdjusterClaimRuleError { field } " + ERR + " } }"
)
SEND = (
    "mutation($id: ID!) { sendPaperClaim(input: {claimId: $id}) { __typename "
    "... on SendPaperClaimSuccess { claim { claimNo status channel enteredByOffice "
    "applicantPhone contactEmail payee { accountNo } documents { category } } } "
    "... on Error { code message } } }"
)
SETTLE = (
    'mutation($id: ID!) { settleClaim(input: {claimId: $id, approvedAmount: "980.00", '
    'paidAmount: "980.00"}) { __typename ... on SettleClaimSuccess { claim { status payBy } } '
    + ERR
    + " } }"
)
PAY = (
    "mutation($input: RecordClaimPaymentInput!) { recordClaimPayment(input: $input) { "
    "__typename ... on RecordClaimPaymentSuccess { claim { status payment { amount paidOn "
    "bankReference payee onTime } timeline { kind statusTo } } } "
    "... on AdjusterClaimRuleError { field } " + ERR + " } }"
)
AWAITING = (
    "{ adjusterQueue(first: 20, filter: {awaitingPayment: true}) { totalCount "
    "edges { node { id status payBy overdue } } } }"
)


@pytest.fixture
def paper(db_factory: sessionmaker[Session], claims: ClaimContext, demo: Any) -> None:
    today = claims.now().date()
    with db_factory() as s:
        make_adjuster(s, claims)
        person = add_person(
            s,
            claims.vault,
            name="周敏",
            id_number=ID_NUMBER,
            birth_date=datetime.date(1975, 5, 6),
            gender="F",
            phone="13900000055",
        )
        add_policy(
            s,
            claims.vault,
            policy_no="PAPER-GQL-1",
            insured=person,
            start=today.replace(month=1, day=1),
            end=today.replace(month=12, day=31),
        )
        s.commit()


def _form(**changes: Any) -> dict[str, Any]:
    form = {
        "policyNo": "PAPER-GQL-1",
        "insuredIdNumber": ID_NUMBER,
        "claimType": "OUTPATIENT",
        "incidentType": "DISEASE",
        "incidentDate": "2026-02-25",
        "invoiceTotal": "980.00",
        "payeeName": "周敏",
        "bankName": "交通银行",
        "accountNo": "6222600110012345678",
        "contactEmail": "zhou.min@example.com",
    }
    form.update(changes)
    return form


def test_a_paper_claim_is_entered_scanned_sent_settled_and_paid(
    api: Api, paper: None, clock: FakeClock
) -> None:
    token = api(LOG_IN, u="wang.fang", p=ADJUSTER_PASSWORD)["data"]["adjusterLogIn"]["token"]
    # the office enters the form
    entered = api(ENTER, token, input=_form())["data"]["enterPaperClaim"]
    assert entered["__typename"] == "EnterPaperClaimSuccess", entered
    claim_id = entered["claimId"]
    assert entered["uploadUrl"].endswith(f"/api/office/claims/{claim_id}/documents")
    # sending before the scans is refused with the missing categories
    early = api(SEND, token, id=claim_id)["data"]["sendPaperClaim"]
    assert (early["__typename"], early["code"]) == ("AdjusterClaimRuleError", "DOCUMENTS_MISSING")
    # the scans go up over HTTP with the adjuster's token; a member's route refuses it
    path = f"/api/office/claims/{claim_id}/documents"
    for category in ("MEDICAL_RECORD", "INVOICE"):
        r = api.client.post(
            path,
            params={"category": category},
            files=[("file", ("scan.png", png(), "image/png"))],
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 201, r.text
        assert r.json()["documents"][0]["channel"] == "OFFICE"
    anonymous = api.client.post(
        path, params={"category": "INVOICE"}, files=[("file", ("a.png", png(), "image/png"))]
    )
    assert anonymous.status_code == 401
    # then it is sent with its number, the contact masked
    sent = api(SEND, token, id=claim_id)["data"]["sendPaperClaim"]
    assert sent["__typename"] == "SendPaperClaimSuccess", sent
    claim = sent["claim"]
    assert claim["claimNo"].startswith("VSHH") and claim["status"] == "SUBMITTED"
    assert (claim["channel"], claim["enteredByOffice"]) == ("OFFICE", True)
    assert claim["applicantPhone"] == "139****0055" and "zhou.min" not in claim["contactEmail"]
    assert (
        claim["payee"]["accountNo"].endswith("5678")
        and "6222600" not in claim["payee"]["accountNo"]
    )
    # no more scans once sent
    late = api.client.post(
        path,
        params={"category": "INVOICE"},
        files=[("file", ("late.png", png(), "image/png"))],
        headers={"Authorization": f"Bearer {token}"},
    )
    assert late.status_code == 404
    # settled: it is in the awaiting-payment list with its last payment day
    settled = api(SETTLE, token, id=claim_id)["data"]["settleClaim"]
    assert settled["claim"]["status"] == "SETTLED" and settled["claim"]["payBy"] == "2026-03-05"
    waiting = api(AWAITING, token)["data"]["adjusterQueue"]
    assert [e["node"]["id"] for e in waiting["edges"]] == [claim_id]
    # a wrong amount is a typed error; the right one makes it PAID
    clock.advance(days=1)  # the next day: signed in afresh
    token = api(LOG_IN, u="wang.fang", p=ADJUSTER_PASSWORD)["data"]["adjusterLogIn"]["token"]
    wrong = api(
        PAY,
        token,
        input={
            "claimId": claim_id,
            "amount": "900.00",
            "paidOn": "2026-03-03",
            "bankReference": "BOCOM-0001",
        },
    )["data"]["recordClaimPayment"]
    assert (wrong["__typename"], wrong["code"]) == (
        "AdjusterClaimRuleError",
        "AMOUNTS_INCONSISTENT",
    )
    paid = api(
        PAY,
        token,
        input={
            "claimId": claim_id,
            "amount": "980.00",
            "paidOn": "2026-03-03",
            "bankReference": "BOCOM-0001",
        },
    )["data"]["recordClaimPayment"]
    assert paid["__typename"] == "RecordClaimPaymentSuccess", paid
    record = paid["claim"]["payment"]
    assert paid["claim"]["status"] == "PAID" and record["onTime"] is True
    assert (record["amount"], record["paidOn"], record["bankReference"]) == (
        "980.00",
        "2026-03-03",
        "BOCOM-0001",
    )
    assert record["payee"].endswith("5678)") and "6222600" not in record["payee"]
    assert {"kind": "PAID", "statusTo": "PAID"} in paid["claim"]["timeline"]
    assert api(AWAITING, token)["data"]["adjusterQueue"]["totalCount"] == 0


def test_paper_claim_errors_are_typed(api: Api, paper: None) -> None:
    token = api(LOG_IN, u="wang.fang", p=ADJUSTER_PASSWORD)["data"]["adjusterLogIn"]["token"]
    unknown = api(ENTER, token, input=_form(insuredIdNumber="110101199001011237"))
    out = unknown["data"]["enterPaperClaim"]
    assert (out["__typename"], out["code"]) == ("AdjusterClaimNotFoundError", "POLICY_NOT_FOUND")
    bad = api(ENTER, token, input=_form(invoiceTotal="0", contactMobile="12"))
    out = bad["data"]["enterPaperClaim"]
    assert out["__typename"] == "ValidationError"
    assert {f["field"] for f in out["fieldErrors"]} == {"invoiceTotal", "contactMobile"}
    # members cannot enter paper claims
    member = api(ENTER, "not-a-token", input=_form())
    assert member["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
