"""The adjuster's queue, the full view of a claim, and the decisions on it."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.claims import review, supplements
from server.claims.core import ClaimContext
from server.claims.errors import ClaimNotFound, ClaimRuleBroken, WrongClaimState
from server.claims.models import (
    Actor,
    Channel,
    Claim,
    ClaimDuplicate,
    ClaimEvent,
    ClaimLimitOverride,
    ClaimStatus,
)
from server.claims.review import Deduction, ProblemMark, QueueFilter
from server.errors import ValidationFailed
from tests.db import FakeClock
from tests.server.claims.review_helpers import ACCOUNT_NO, attach, make_adjuster, make_claim

S = ClaimStatus


def _events(db: Session, claim: Claim) -> list[ClaimEvent]:
    return list(
        db.scalars(
            select(ClaimEvent).where(ClaimEvent.claim_id == claim.id).order_by(ClaimEvent.id)
        )
    )


def _ids(page: review.QueuePage) -> list[int]:
    return [r.claim.id for r in page.rows]


# --- the queue -------------------------------------------------------------------------------


def test_the_queue_puts_an_unseen_supplement_first_then_the_oldest_waiting(
    db_session: Session, claims: ClaimContext, demo: Any, clock: FakeClock
) -> None:
    # given three sent claims, waiting since 3, 2 and 1 days, and a draft
    adjuster = make_adjuster(db_session, claims)
    now = clock.now
    old = make_claim(db_session, claims, demo, waiting_since=now - datetime.timedelta(days=3))
    middle = make_claim(db_session, claims, demo, waiting_since=now - datetime.timedelta(days=2))
    new = make_claim(db_session, claims, demo, waiting_since=now - datetime.timedelta(days=1))
    make_claim(db_session, claims, demo, status=S.DRAFT)
    assert _ids(review.queue(db_session)) == [old.id, middle.id, new.id]
    # when the newest claim's supplement arrives
    supplements.request_supplement(
        db_session, claims, adjuster, new, ["INVOICE"], "请补充发票原件照片"
    )
    attach(db_session, claims, new, "INVOICE")
    clock.advance(hours=1)
    supplements.fulfil(
        db_session, claims, new, remark="", channel=Channel.H5, actor=Actor.CLAIMANT, actor_id=None
    )
    # then it comes first, flagged, though it waits the shortest
    page = review.queue(db_session)
    assert _ids(page) == [new.id, old.id, middle.id]
    assert [r.unseen_supplement for r in page.rows] == [True, False, False]
    # and once an adjuster has opened it, it takes its place by waiting time again
    review.claim_view(db_session, claims, new)
    assert _ids(review.queue(db_session)) == [old.id, middle.id, new.id]


def test_the_queue_filters_and_pages(
    db_session: Session, claims: ClaimContext, demo: Any, clock: FakeClock
) -> None:
    now = clock.now  # 2026-03-02 09:00 UTC = 17:00 in China
    a = make_claim(db_session, claims, demo, waiting_since=now - datetime.timedelta(days=2))
    b = make_claim(
        db_session,
        claims,
        demo,
        claim_type="INPATIENT",
        categories=("MEDICAL_RECORD", "INVOICE", "DISCHARGE_SUMMARY"),
        duplicate=True,
        waiting_since=now - datetime.timedelta(days=1),
    )
    c = make_claim(
        db_session,
        claims,
        demo,
        key="staff",
        plan_rules="NKU-STAFF",
        claim_type="OUTPATIENT_CARD",
        status=S.UNDER_REVIEW,
        waiting_since=now,
    )
    settled = make_claim(db_session, claims, demo, status=S.SETTLED)
    assert _ids(review.queue(db_session, QueueFilter(claim_type="INPATIENT"))) == [b.id]
    assert _ids(review.queue(db_session, QueueFilter(plan_rules="NKU-STAFF"))) == [c.id]
    assert _ids(review.queue(db_session, QueueFilter(duplicate_suspected=True))) == [b.id]
    assert _ids(review.queue(db_session, QueueFilter(duplicate_suspected=False))) == [a.id, c.id]
    assert _ids(review.queue(db_session, QueueFilter(statuses=(S.UNDER_REVIEW,)))) == [c.id]
    assert _ids(review.queue(db_session, QueueFilter(statuses=(S.SETTLED,)))) == [settled.id]
    assert _ids(review.queue(db_session, QueueFilter(unseen_supplement=True))) == []
    # submitted dates are China dates, both ends included
    today = datetime.date(2026, 3, 2)
    yesterday = today - datetime.timedelta(days=1)
    assert _ids(review.queue(db_session, QueueFilter(submitted_from=today))) == [c.id]
    assert _ids(
        review.queue(db_session, QueueFilter(submitted_from=yesterday, submitted_to=yesterday))
    ) == [b.id]
    assert _ids(review.queue(db_session, QueueFilter(submitted_to=yesterday))) == [a.id, b.id]
    # pages of 2
    first = review.queue(db_session, offset=0, limit=2)
    second = review.queue(db_session, offset=2, limit=2)
    assert (first.total, first.has_next, second.has_next) == (3, True, False)
    assert _ids(first) + _ids(second) == [a.id, b.id, c.id]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"limit": 0}, "first"),
        ({"limit": 101}, "first"),
        ({"f": QueueFilter(statuses=(S.DRAFT,))}, "statuses"),
        (
            {
                "f": QueueFilter(
                    submitted_from=datetime.date(2026, 3, 2),
                    submitted_to=datetime.date(2026, 3, 1),
                )
            },
            "submittedFrom",
        ),
    ],
)
def test_the_queue_refuses_bad_filters(
    db_session: Session, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as e:
        review.queue(db_session, **kwargs)
    assert e.value.problems[0].field == field


# --- the full view ---------------------------------------------------------------------------


def test_the_full_view_shows_the_insured_name_and_masks_the_rest(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    # given a claim that shares an invoice image with an earlier claim
    earlier = make_claim(db_session, claims, demo)
    claim = make_claim(db_session, claims, demo)
    db_session.add(
        ClaimDuplicate(
            claim_id=claim.id,
            other_claim_id=earlier.id,
            basis="INVOICE_NO",
            detail="INV-001",
            found_at=claims.now(),
        )
    )
    claim.duplicate_suspected = True
    # when the adjuster opens it
    view = review.claim_view(db_session, claims, claim)
    # then the insured person's name is in full, to match against the documents
    assert view.insured_name == "张伟"
    # and the ID number, phone, e-mail, payee name and account are masked
    id_number = demo.people["main"].id_number
    assert view.insured_id_number != id_number
    assert view.insured_id_number[:4] == id_number[:4] and "*" in view.insured_id_number
    assert view.applicant_phone == "138****0001"
    assert view.contact_email == "z***@example.com"
    assert view.applicant_name == "张*"
    assert view.payee is not None
    assert (
        view.payee.account_no.endswith(ACCOUNT_NO[-4:]) and ACCOUNT_NO not in view.payee.account_no
    )
    assert view.payee.holder_name == "张*"
    # and documents, duplicates with the other claim's number, and the policy are there
    assert [d.category for d in view.documents] == ["MEDICAL_RECORD", "INVOICE"]
    assert [(d.basis, no) for d, no in view.duplicates] == [("INVOICE_NO", earlier.claim_no)]
    assert view.policy_no == "DEMO-G-0001-01"
    assert view.claim_type is not None and view.claim_type.code == "OUTPATIENT"


def test_drafts_are_not_for_adjusters(db_session: Session, claims: ClaimContext, demo: Any) -> None:
    draft = make_claim(db_session, claims, demo, status=S.DRAFT)
    with pytest.raises(ClaimNotFound):
        review.adjuster_claim(db_session, draft.id)
    with pytest.raises(ClaimNotFound):
        review.adjuster_claim(db_session, 999_999)


# --- start review ----------------------------------------------------------------------------


def test_start_review_moves_a_submitted_claim_once(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    adjuster = make_adjuster(db_session, claims)
    claim = make_claim(db_session, claims, demo)
    review.start_review(db_session, claims, adjuster, claim)
    assert claim.status is S.UNDER_REVIEW
    [event] = _events(db_session, claim)
    assert (event.kind, event.actor, event.actor_id) == (
        "REVIEW_STARTED",
        Actor.ADJUSTER,
        adjuster.id,
    )
    assert (event.status_from, event.status_to) == (S.SUBMITTED, S.UNDER_REVIEW)
    with pytest.raises(WrongClaimState) as e:
        review.start_review(db_session, claims, adjuster, claim)
    assert e.value.code == "CLAIM_STATE_CONFLICT"


# --- problem images --------------------------------------------------------------------------


def test_problem_images_carry_their_reasons(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    adjuster = make_adjuster(db_session, claims)
    claim = make_claim(db_session, claims, demo)
    record, invoice = claim.documents
    review.mark_problem_images(
        db_session,
        claims,
        adjuster,
        claim,
        [ProblemMark(invoice.id, " 发票影像模糊 "), ProblemMark(record.id, "病历缺页")],
    )
    assert (invoice.problem_reason, record.problem_reason) == ("发票影像模糊", "病历缺页")
    assert invoice.problem_marked_by == adjuster.id and invoice.problem_marked_at is not None
    [event] = _events(db_session, claim)
    assert event.kind == "PROBLEM_IMAGES_MARKED"
    assert "发票影像模糊" in event.note and "病历缺页" in event.note
    assert claim.status is S.SUBMITTED  # marking changes no status


@pytest.mark.parametrize(
    ("marks", "field", "code"),
    [
        ([], "images", "REQUIRED"),
        ([("invoice", "  ")], "images[0].reason", "REQUIRED"),
        ([("invoice", "很" * 201)], "images[0].reason", "TOO_LONG"),
        ([("invoice", "模糊"), ("invoice", "模糊")], "images", "DUPLICATE"),
        ([("other", "模糊")], "images[0].documentId", "NOT_FOUND"),
        ([("missing", "模糊")], "images[0].documentId", "NOT_FOUND"),
    ],
)
def test_problem_images_refuse_bad_marks(
    db_session: Session,
    claims: ClaimContext,
    demo: Any,
    marks: list[tuple[str, str]],
    field: str,
    code: str,
) -> None:
    adjuster = make_adjuster(db_session, claims)
    claim = make_claim(db_session, claims, demo)
    other = make_claim(db_session, claims, demo)
    ids = {"invoice": claim.documents[1].id, "other": other.documents[0].id, "missing": 0}
    with pytest.raises(ValidationFailed) as e:
        review.mark_problem_images(
            db_session, claims, adjuster, claim, [ProblemMark(ids[k], r) for k, r in marks]
        )
    assert (e.value.problems[0].field, e.value.problems[0].code) == (field, code)
    assert other.documents[0].problem_reason is None


def test_problem_images_only_on_open_claims(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    adjuster = make_adjuster(db_session, claims)
    claim = make_claim(db_session, claims, demo, status=S.SETTLED)
    with pytest.raises(WrongClaimState):
        review.mark_problem_images(
            db_session, claims, adjuster, claim, [ProblemMark(claim.documents[0].id, "模糊")]
        )


# --- settle ----------------------------------------------------------------------------------


def test_settle_records_the_amounts_and_the_deductions(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    adjuster = make_adjuster(db_session, claims)
    claim = make_claim(db_session, claims, demo, amount_fen=1200_00, other_fen=100_00)
    review.start_review(db_session, claims, adjuster, claim)
    review.settle(
        db_session,
        claims,
        adjuster,
        claim,
        approved_fen=950_00,
        paid_fen=950_00,
        deductions=[Deduction(100_00, "已获单位补偿"), Deduction(150_00, "自费药品不在保障范围")],
        note="按合同约定赔付",
    )
    assert claim.status is S.SETTLED
    assert (claim.approved_fen, claim.paid_fen, claim.decided_by) == (950_00, 950_00, adjuster.id)
    assert [(d.amount_fen, d.reason) for d in claim.deductions] == [
        (100_00, "已获单位补偿"),
        (150_00, "自费药品不在保障范围"),
    ]
    event = _events(db_session, claim)[-1]
    assert event.kind == "SETTLED" and event.status_to is S.SETTLED
    assert "950.00" in event.note and "按合同约定赔付" in event.note
    # a settled claim is decided: no second settlement, no rejection
    with pytest.raises(WrongClaimState):
        review.settle(
            db_session, claims, adjuster, claim, approved_fen=950_00, paid_fen=950_00, deductions=[]
        )
    with pytest.raises(WrongClaimState):
        review.reject(db_session, claims, adjuster, claim, reason="重复")


@pytest.mark.parametrize(
    ("approved", "paid", "deductions", "field"),
    [
        (1000_00, 1000_00, [], "deductions"),  # 200 not explained
        (1000_00, 900_00, [(200_00, "自费")], "paidAmount"),  # paid differs
        (1300_00, 1300_00, [], "approvedAmount"),  # above the claim
        (1000_00, 1000_00, [(100_00, "自费"), (100_00, "自费")], None),  # fine
        (1200_00, 1200_00, [(0, "零")], "deductions[0].amount"),
        (1100_00, 1100_00, [(100_00, " ")], "deductions[0].reason"),
        (0, 0, [(1200_00, "全部自费")], "approvedAmount"),  # pays nothing: reject instead
    ],
)
def test_settlement_amounts_must_add_up(
    db_session: Session,
    claims: ClaimContext,
    demo: Any,
    approved: int,
    paid: int,
    deductions: list[tuple[int, str]],
    field: str | None,
) -> None:
    adjuster = make_adjuster(db_session, claims)
    claim = make_claim(db_session, claims, demo, amount_fen=1200_00)

    def settle() -> None:
        review.settle(
            db_session,
            claims,
            adjuster,
            claim,
            approved_fen=approved,
            paid_fen=paid,
            deductions=[Deduction(a, r) for a, r in deductions],
        )

    if field is None:
        settle()
        assert claim.status is S.SETTLED
        return
    with pytest.raises((ValidationFailed, ClaimRuleBroken)) as e:
        settle()
    assert e.value.field == field
    if isinstance(e.value, ClaimRuleBroken):
        assert e.value.code == "AMOUNTS_INCONSISTENT"
    assert claim.status is S.SUBMITTED and claim.deductions == []


def test_compensation_received_elsewhere_is_not_paid_again(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    adjuster = make_adjuster(db_session, claims)
    claim = make_claim(db_session, claims, demo, amount_fen=1200_00, other_fen=300_00)
    with pytest.raises(ClaimRuleBroken) as e:
        review.settle(
            db_session,
            claims,
            adjuster,
            claim,
            approved_fen=1000_00,
            paid_fen=1000_00,
            deductions=[Deduction(200_00, "自费")],
        )
    assert (e.value.code, e.value.field) == ("AMOUNTS_INCONSISTENT", "approvedAmount")


def test_a_claim_waiting_for_documents_cannot_be_settled(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    adjuster = make_adjuster(db_session, claims)
    claim = make_claim(db_session, claims, demo)
    supplements.request_supplement(db_session, claims, adjuster, claim, ["INVOICE"], "补发票")
    with pytest.raises(WrongClaimState):
        review.settle(
            db_session,
            claims,
            adjuster,
            claim,
            approved_fen=1200_00,
            paid_fen=1200_00,
            deductions=[],
        )
    with pytest.raises(ValidationFailed):
        review.settle(
            db_session,
            claims,
            adjuster,
            make_claim(db_session, claims, demo),
            approved_fen=1200_00,
            paid_fen=1200_00,
            deductions=[],
            note="长" * 501,
        )


# --- reject ----------------------------------------------------------------------------------


def test_reject_needs_a_reason(db_session: Session, claims: ClaimContext, demo: Any) -> None:
    adjuster = make_adjuster(db_session, claims)
    claim = make_claim(db_session, claims, demo)
    for bad, code in (("", "REQUIRED"), ("   ", "REQUIRED"), ("长" * 501, "TOO_LONG")):
        with pytest.raises(ValidationFailed) as e:
            review.reject(db_session, claims, adjuster, claim, reason=bad)
        assert (e.value.problems[0].field, e.value.problems[0].code) == ("reason", code)
    assert claim.status is S.SUBMITTED
    review.reject(db_session, claims, adjuster, claim, reason=" 出险日期不在保险期间内 ")
    assert claim.status is S.REJECTED
    assert claim.decision_reason == "出险日期不在保险期间内"
    event = _events(db_session, claim)[-1]
    assert (event.kind, event.note) == ("REJECTED", "出险日期不在保险期间内")


def test_a_claim_waiting_for_documents_can_be_rejected_and_its_link_dies(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    adjuster = make_adjuster(db_session, claims)
    claim = make_claim(db_session, claims, demo)
    _, token = supplements.request_supplement(
        db_session, claims, adjuster, claim, ["INVOICE"], "补发票"
    )
    review.reject(db_session, claims, adjuster, claim, reason="逾期未补充材料")
    from server.claims.errors import SupplementLinkInvalid

    with pytest.raises(SupplementLinkInvalid) as e:
        supplements.claim_for_token(db_session, claims, token)
    assert e.value.reason == "CLOSED"


# --- limits ----------------------------------------------------------------------------------


def test_raise_limit_for_one_person_is_audited(
    db_session: Session, claims: ClaimContext, demo: Any, clock: FakeClock
) -> None:
    adjuster = make_adjuster(db_session, claims)
    other = make_adjuster(db_session, claims, "li.lei", email="")
    person = review.person_for_policy_no(db_session, " DEMO-G-0001-01 ")
    assert person == demo.people["main"].person_id
    review.raise_limit(db_session, claims, adjuster, person, limit_fen=5000_00, reason="住院费用")
    clock.advance(minutes=5)
    review.raise_limit(db_session, claims, other, person, limit_fen=8000_00, reason="复核后提高")
    [row] = db_session.scalars(select(ClaimLimitOverride)).all()
    assert (row.limit_fen, row.set_by, row.set_at, row.reason) == (
        8000_00,
        other.id,
        clock.now,
        "复核后提高",
    )
    assert review.person_for_policy_no(db_session, "NO-SUCH-POLICY") is None


@pytest.mark.parametrize(
    ("limit", "reason", "field"),
    [(0, "x", "limit"), (-1, "x", "limit"), (10**12, "x", "limit"), (5000_00, " ", "reason")],
)
def test_raise_limit_refuses_bad_values(
    db_session: Session, claims: ClaimContext, demo: Any, limit: int, reason: str, field: str
) -> None:
    adjuster = make_adjuster(db_session, claims)
    with pytest.raises(ValidationFailed) as e:
        review.raise_limit(
            db_session,
            claims,
            adjuster,
            demo.people["main"].person_id,
            limit_fen=limit,
            reason=reason,
        )
    assert e.value.problems[0].field == field


def test_claims_waiting_for_documents_are_in_the_queue_only_when_asked_for(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    adjuster = make_adjuster(db_session, claims)
    waiting = make_claim(db_session, claims, demo)
    submitted = make_claim(db_session, claims, demo)
    supplements.request_supplement(db_session, claims, adjuster, waiting, ["INVOICE"], "补发票")
    assert _ids(review.queue(db_session)) == [submitted.id]
    pending = QueueFilter(statuses=(S.PENDING_SUPPLEMENT,))
    assert _ids(review.queue(db_session, pending)) == [waiting.id]
