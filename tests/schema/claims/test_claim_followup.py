"""After submission over GraphQL: withdraw, resubmit, and the in-app supplement (补材)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.wiring import MemberServices
from server.claims import core
from server.claims.core import ClaimContext
from server.claims.models import Actor, Adjuster, Claim, ClaimStatus
from tests.db import TEST_VAULT, Api
from tests.schema.claims.helpers import (
    ONE,
    RESUBMIT,
    SUPPLEMENT,
    WITHDRAW,
    Claimant,
    pk,
)

MAIN = "13800000001"
STAFF = "13800000005"


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
def zhao(
    api: Api,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
) -> Claimant:
    return Claimant(api, db_factory, claims, members, demo, STAFF)


@pytest.fixture
def adjuster(db_factory: sessionmaker[Session]) -> int:
    with db_factory() as s:
        a = Adjuster(
            username="followup-reviewer",
            display_name_enc=TEST_VAULT.encrypt("王审核"),
            password_hash="x",
        )
        s.add(a)
        s.commit()
        return a.id


def test_withdrawing_an_open_claim(zhang: Claimant, zhao: Claimant) -> None:
    claim = zhang.submitted()
    out = zhao.run(WITHDRAW, "withdrawClaim", claimId=claim["id"])
    assert out["__typename"] == "ClaimNotFoundError"
    out = zhang.run(WITHDRAW, "withdrawClaim", claimId=claim["id"], reason="x" * 501)
    assert out["fieldErrors"] == [{"field": "reason", "code": "TOO_LONG"}]
    out = zhang.run(WITHDRAW, "withdrawClaim", claimId=claim["id"], reason="已线下报销")
    assert out["__typename"] == "WithdrawClaimSuccess"
    done = out["claim"]
    assert done["status"] == "WITHDRAWN" and not done["canWithdraw"]
    assert done["timeline"][-1]["kind"] == "WITHDRAWN"
    assert done["timeline"][-1]["note"] == "已线下报销"
    assert done["settlementNoticeUrl"] is None
    out = zhang.run(WITHDRAW, "withdrawClaim", claimId=claim["id"])
    assert out["__typename"] == "ClaimStateError"


def test_resubmitting_a_rejected_claim(
    zhang: Claimant, claims: ClaimContext, db_factory: sessionmaker[Session], adjuster: int
) -> None:
    old = zhang.submitted()
    out = zhang.run(RESUBMIT, "resubmitClaim", claimId=old["id"], noticeAccepted=True)
    assert out["__typename"] == "ClaimStateError"  # still open, nothing wrong with it
    with db_factory() as s:
        claim = s.get(Claim, pk(old["id"]))
        assert claim is not None
        core.active_documents(claim)[0].problem_reason = "病历缺页"
        core.transition(
            s,
            claim,
            ClaimStatus.REJECTED,
            "REJECTED",
            actor=Actor.ADJUSTER,
            actor_id=adjuster,
            now=claims.now(),
        )
        s.commit()
    assert zhang(ONE, id=old["id"])["data"]["claim"]["canResubmit"]
    out = zhang.run(RESUBMIT, "resubmitClaim", claimId=old["id"], noticeAccepted=False)
    assert out["code"] == "NOTICE_NOT_ACCEPTED"
    out = zhang.run(RESUBMIT, "resubmitClaim", claimId=old["id"], noticeAccepted=True)
    assert out["__typename"] == "ResubmitClaimSuccess"
    new = out["claim"]
    assert new["status"] == "DRAFT" and new["resubmissionOf"]["id"] == old["id"]
    assert new["invoiceTotal"] == old["invoiceTotal"] and new["claimType"] == old["claimType"]
    assert len(new["documents"]) == len(old["documents"]) - 1  # the problem image stays behind
    assert not new["signed"]
    history = zhang(ONE, id=old["id"])["data"]["claim"]["timeline"]
    assert history[-1]["kind"] == "RESUBMITTED"
    # complete and send the new one
    zhang.add_document(new["id"], "MEDICAL_RECORD")
    zhang.sign(new["id"])
    sent = zhang.submit(new["id"], zhang.send_code(new["id"]))
    assert sent["__typename"] == "SubmitClaimSuccess"
    assert sent["claim"]["duplicates"] == []
    out = zhang.run(RESUBMIT, "resubmitClaim", claimId=old["id"], noticeAccepted=True)
    assert out["__typename"] == "ClaimStateError"


def test_the_in_app_supplement(
    zhang: Claimant,
    zhao: Claimant,
    claims: ClaimContext,
    db_factory: sessionmaker[Session],
    adjuster: int,
) -> None:
    from server.claims import supplements

    claim = zhang.submitted()
    out = zhang.run(SUPPLEMENT, "submitClaimSupplement", claimId=claim["id"])
    assert out["__typename"] == "ClaimStateError"
    with db_factory() as s:
        row = s.get(Claim, pk(claim["id"]))
        who = s.get(Adjuster, adjuster)
        assert row is not None and who is not None
        supplements.request_supplement(s, claims, who, row, ["INVOICE", "OTHER"], "请补充费用清单")
        s.commit()
    detail = zhang(ONE, id=claim["id"])["data"]["claim"]
    assert detail["status"] == "PENDING_SUPPLEMENT" and detail["needsAction"]
    assert [c["code"] for c in detail["supplement"]["categories"]] == ["INVOICE", "OTHER"]
    zhang.add_document(claim["id"], "INVOICE")
    out = zhang.run(SUPPLEMENT, "submitClaimSupplement", claimId=claim["id"])
    assert (out["__typename"], out["code"]) == ("ClaimRuleError", "DOCUMENTS_MISSING")
    zhang.add_document(claim["id"], "OTHER")
    out = zhao.run(SUPPLEMENT, "submitClaimSupplement", claimId=claim["id"])
    assert out["__typename"] == "ClaimNotFoundError"
    out = zhang.run(SUPPLEMENT, "submitClaimSupplement", claimId=claim["id"], remark="x" * 501)
    assert out["__typename"] == "ValidationError"
    out = zhang.run(SUPPLEMENT, "submitClaimSupplement", claimId=claim["id"], remark="已补充")
    assert out["__typename"] == "SubmitClaimSupplementSuccess"
    done = out["claim"]
    assert done["status"] == "UNDER_REVIEW" and done["supplement"] is None
    assert done["timeline"][-1]["kind"] == "SUPPLEMENT_RECEIVED"
    assert done["timeline"][-1]["note"] == "已补充"
    # sending twice changes nothing
    again = zhang.run(SUPPLEMENT, "submitClaimSupplement", claimId=claim["id"], remark="已补充")
    assert again["__typename"] == "SubmitClaimSupplementSuccess"
    assert len(again["claim"]["timeline"]) == len(done["timeline"])
