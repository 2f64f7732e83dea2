"""After submission: progress lists, withdrawal, resubmission, the in-app supplement."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.wiring import MemberServices
from server.claims import claimant_actions as actions
from server.claims import claimant_progress as progress
from server.claims import core, drafts
from server.claims.core import ClaimContext
from server.claims.errors import ClaimNotFound, ClaimRuleBroken, WrongClaimState
from server.claims.models import (
    Actor,
    Adjuster,
    Channel,
    Claim,
    ClaimDuplicate,
    ClaimEvent,
    ClaimStatus,
)
from server.errors import ValidationFailed
from server.messages.models import MemberMessage
from server.notify.outbox import Notification
from server.policies.models import Relation
from tests.db import TEST_VAULT
from tests.server.claims.drafts_helpers import (
    MAIN,
    STAFF,
    account_of,
    add_document,
    code_for,
    policy_id,
    ready_draft,
)

S = ClaimStatus


@pytest.fixture
def main(db_session: Session, claims: ClaimContext, demo: Any) -> Any:
    return account_of(db_session, claims, MAIN)


@pytest.fixture
def submitted(
    db_session: Session,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
) -> Any:
    """Submits a complete draft of the account with `phone` on the policy `key`."""
    counter = iter(range(1000))

    def make(phone: str = MAIN, key: str = "main", **kw: Any) -> Claim:
        account = account_of(db_session, claims, phone)
        if key == "child":
            kw.setdefault("relationship", Relation.CHILD)
        claim = ready_draft(db_session, claims, account, policy_id(demo, key), **kw)
        code = code_for(db_session, db_factory, claims, members, account, claim, phone)
        return drafts.submit(
            db_session,
            claims,
            account,
            claim.id,
            sms_code=code,
            client_key=f"key-{next(counter):04d}",
        )

    return make


@pytest.fixture
def adjuster(db_session: Session) -> Adjuster:
    a = Adjuster(
        username="reviewer", display_name_enc=TEST_VAULT.encrypt("王审核"), password_hash="x"
    )
    db_session.add(a)
    db_session.flush()
    return a


def _decide(
    db: Session, cx: ClaimContext, claim: Claim, to: ClaimStatus, adjuster: Adjuster
) -> None:
    core.transition(
        db, claim, to, to.name, actor=Actor.ADJUSTER, actor_id=adjuster.id, now=cx.now(), note=""
    )
    if to is S.SETTLED:
        claim.approved_fen = claim.paid_fen = claim.invoice_total_fen
    db.flush()


def _kinds(db: Session, claim: Claim) -> list[str]:
    return list(
        db.scalars(
            select(ClaimEvent.kind).where(ClaimEvent.claim_id == claim.id).order_by(ClaimEvent.id)
        )
    )


# --- progress ------------------------------------------------------------------------------------


def test_the_claim_list_filters_by_status_and_the_seeds_query_fields(
    db_session: Session, claims: ClaimContext, main: Any, submitted: Any, adjuster: Adjuster
) -> None:
    a = submitted()
    b = submitted(key="child")
    c = submitted()
    _decide(db_session, claims, b, S.UNDER_REVIEW, adjuster)
    _decide(db_session, claims, c, S.SETTLED, adjuster)
    drafts.start_draft(
        db_session, claims, main, policy_id=a.policy_id, notice_accepted=True
    )  # a draft is not listed

    def ids(**kw: Any) -> list[int]:
        return [
            x.id for x in progress.list_claims(db_session, main, progress.ClaimQuery(**kw)).claims
        ]

    assert ids() == [c.id, b.id, a.id]  # newest first
    assert ids(status=S.SUBMITTED) == [a.id]
    assert ids(status=S.UNDER_REVIEW) == [b.id]
    assert ids(status=S.SETTLED) == [c.id]
    assert ids(status=S.WITHDRAWN) == []
    year = claims.now().year
    assert ids(year=year) == [c.id, b.id, a.id] and ids(year=year - 1) == []
    today = claims.now().astimezone(datetime.timezone(datetime.timedelta(hours=8))).date()
    assert len(ids(submitted_from=today, submitted_to=today)) == 3
    assert ids(submitted_to=today - datetime.timedelta(days=1)) == []
    assert len(ids(channel=Channel.APP)) == 3 and ids(channel=Channel.OFFICE) == []
    assert len(ids(claim_type="OUTPATIENT")) == 3 and ids(claim_type="INPATIENT") == []
    # paging
    page = progress.list_claims(db_session, main, progress.ClaimQuery(limit=2))
    assert ([x.id for x in page.claims], page.total, page.has_next) == ([c.id, b.id], 3, True)
    page = progress.list_claims(db_session, main, progress.ClaimQuery(offset=2, limit=2))
    assert ([x.id for x in page.claims], page.has_next) == ([a.id], False)
    # another member sees none of them
    staff = account_of(db_session, claims, STAFF)
    assert progress.list_claims(db_session, staff, progress.ClaimQuery()).total == 0
    with pytest.raises(ClaimNotFound):
        progress.claim_detail(db_session, staff, a.id)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"year": 1999}, "year"),
        (
            {
                "submitted_from": datetime.date(2026, 3, 2),
                "submitted_to": datetime.date(2026, 3, 1),
            },
            "submittedTo",
        ),
        ({"limit": 0}, "first"),
        ({"limit": 101}, "first"),
        ({"claim_type": "X" * 41}, "claimType"),
    ],
)
def test_bad_list_queries_are_refused(
    db_session: Session, main: Any, kw: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as e:
        progress.list_claims(db_session, main, progress.ClaimQuery(**kw))
    assert e.value.problems[0].field == field


def test_needs_action_lists_pending_supplements_and_problem_images(
    db_session: Session, claims: ClaimContext, main: Any, submitted: Any, adjuster: Adjuster
) -> None:
    from server.claims import supplements

    quiet = submitted()
    pending = submitted()
    problem = submitted()
    settled = submitted()
    supplements.request_supplement(
        db_session, claims, adjuster, pending, ["OTHER"], "请补充费用清单"
    )
    for claim in (problem, settled):
        doc = core.active_documents(claim)[0]
        doc.problem_reason = "发票影像不清晰"
    _decide(db_session, claims, settled, S.SETTLED, adjuster)
    found = progress.list_claims(db_session, main, progress.ClaimQuery(needs_action=True))
    assert [c.id for c in found.claims] == [problem.id, pending.id]
    assert progress.needs_action(db_session, pending) and progress.needs_action(db_session, problem)
    assert not progress.needs_action(db_session, quiet)
    assert not progress.needs_action(db_session, settled)


def test_another_members_draft_is_not_visible_even_to_the_insured_person(
    db_session: Session, claims: ClaimContext, main: Any, demo: Any
) -> None:
    # 赵静's account looks at 张伟's draft: missing, like any unknown id
    claim = ready_draft(db_session, claims, main, policy_id(demo, "main"))
    staff = account_of(db_session, claims, STAFF)
    for claim_id in (claim.id, 424_242):
        with pytest.raises(ClaimNotFound):
            progress.claim_detail(db_session, staff, claim_id)
    assert progress.claim_detail(db_session, main, claim.id).id == claim.id


# --- withdrawal ----------------------------------------------------------------------------------


def test_an_open_claim_can_be_withdrawn_once(
    db_session: Session, claims: ClaimContext, main: Any, submitted: Any, demo: Any
) -> None:
    claim = submitted()
    with pytest.raises(ValidationFailed):
        actions.withdraw(db_session, claims, main, claim.id, reason="x" * 501)
    staff = account_of(db_session, claims, STAFF)
    with pytest.raises(ClaimNotFound):
        actions.withdraw(db_session, claims, staff, claim.id)
    actions.withdraw(db_session, claims, main, claim.id, reason="已在线下报销")
    assert claim.status is S.WITHDRAWN
    event = db_session.scalar(
        select(ClaimEvent).where(ClaimEvent.claim_id == claim.id, ClaimEvent.kind == "WITHDRAWN")
    )
    assert event is not None and event.note == "已在线下报销" and event.actor is Actor.CLAIMANT
    # the claimant is told, in the app and by SMS ("not you? call"), once
    [message] = db_session.scalars(
        select(MemberMessage).where(MemberMessage.kind == "claim.withdrawn")
    ).all()
    assert (message.account_id, message.subject_id) == (main.id, claim.id)
    sms = db_session.scalar(
        select(Notification).where(
            Notification.dedupe_key == f"claim.withdrawn:{claim.id}:withdraw:sms"
        )
    )
    assert sms is not None and "撤案" in claims.vault.decrypt(sms.body_enc)
    with pytest.raises(WrongClaimState):
        actions.withdraw(db_session, claims, main, claim.id)
    draft = ready_draft(db_session, claims, main, policy_id(demo, "main"))
    with pytest.raises(WrongClaimState):
        actions.withdraw(db_session, claims, main, draft.id)


# --- resubmission --------------------------------------------------------------------------------


def test_a_rejected_claim_is_resubmitted_as_a_prefilled_draft(
    db_session: Session,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    main: Any,
    submitted: Any,
    adjuster: Adjuster,
) -> None:
    old = submitted()
    bad, good = core.active_documents(old)[:2]
    bad.problem_reason = "影像模糊"
    _decide(db_session, claims, old, S.REJECTED, adjuster)
    with pytest.raises(ClaimRuleBroken):
        actions.resubmit(db_session, claims, main, old.id, notice_accepted=False)
    new = actions.resubmit(db_session, claims, main, old.id, notice_accepted=True)
    assert new.status is S.DRAFT and new.resubmission_of_id == old.id
    for field in ("claim_type", "incident_date", "invoice_total_fen", "payee_id", "address_enc"):
        assert getattr(new, field) == getattr(old, field)
    assert [d.storage_key for d in core.active_documents(new)] == [good.storage_key]
    assert new.signature_key is None  # signed again
    assert _kinds(db_session, old)[-1] == "RESUBMITTED"
    # asking again gives the same draft
    assert actions.resubmit(db_session, claims, main, old.id, notice_accepted=True).id == new.id
    # the new draft is completed and sent; it is not flagged against the claim it replaces
    add_document(db_session, claims, new, bad.category)
    from tests.server.claims.drafts_helpers import sign

    sign(db_session, claims, new)
    code = code_for(db_session, db_factory, claims, members, main, new)
    drafts.submit(db_session, claims, main, new.id, sms_code=code, client_key="resub-key-1")
    assert new.status is S.SUBMITTED and not new.duplicate_suspected
    assert (
        db_session.scalars(select(ClaimDuplicate).where(ClaimDuplicate.claim_id == new.id)).all()
        == []
    )
    with pytest.raises(WrongClaimState):
        actions.resubmit(db_session, claims, main, old.id, notice_accepted=True)


def test_discarding_a_resubmission_keeps_the_old_claims_files(
    db_session: Session, claims: ClaimContext, main: Any, submitted: Any, adjuster: Adjuster
) -> None:
    old = submitted()
    _decide(db_session, claims, old, S.REJECTED, adjuster)
    new = actions.resubmit(db_session, claims, main, old.id, notice_accepted=True)
    drafts.discard_draft(db_session, claims, main, new.id)
    for doc in core.active_documents(old):
        assert claims.storage.exists(doc.storage_key)


def test_only_rejected_or_problem_claims_can_be_resubmitted(
    db_session: Session, claims: ClaimContext, main: Any, submitted: Any, adjuster: Adjuster
) -> None:
    claim = submitted()
    with pytest.raises(WrongClaimState):
        actions.resubmit(db_session, claims, main, claim.id, notice_accepted=True)
    core.active_documents(claim)[0].problem_reason = "缺少医院盖章"
    db_session.flush()
    new = actions.resubmit(db_session, claims, main, claim.id, notice_accepted=True)
    assert new.resubmission_of_id == claim.id
    staff = account_of(db_session, claims, STAFF)
    with pytest.raises(ClaimNotFound):
        actions.resubmit(db_session, claims, staff, claim.id, notice_accepted=True)


# --- the in-app supplement ------------------------------------------------------------------------


def test_an_in_app_supplement_sends_the_new_files_and_reopens_review(
    db_session: Session, claims: ClaimContext, main: Any, submitted: Any, adjuster: Adjuster
) -> None:
    from server.claims import supplements

    claim = submitted()
    with pytest.raises(WrongClaimState):
        actions.submit_supplement(db_session, claims, main, claim.id, remark="")
    supplements.request_supplement(
        db_session, claims, adjuster, claim, ["INVOICE", "OTHER"], "请补充发票原件照片与费用清单"
    )
    assert claim.status is S.PENDING_SUPPLEMENT
    first = add_document(db_session, claims, claim, "INVOICE")
    assert first.supplement_id is not None
    with pytest.raises(ClaimRuleBroken) as e:
        actions.submit_supplement(db_session, claims, main, claim.id, remark="")
    assert e.value.code == "DOCUMENTS_MISSING"
    other = add_document(db_session, claims, claim, "OTHER")
    # a file of the supplement can be taken back before sending; an older one cannot
    drafts.remove_document(db_session, claims, main, other.id)
    with pytest.raises(WrongClaimState):
        drafts.remove_document(
            db_session, claims, main, next(d.id for d in claim.documents if d.supplement_id is None)
        )
    add_document(db_session, claims, claim, "OTHER")
    staff = account_of(db_session, claims, STAFF)
    with pytest.raises(ClaimNotFound):
        actions.submit_supplement(db_session, claims, staff, claim.id, remark="")
    actions.submit_supplement(db_session, claims, main, claim.id, remark="已补充")
    assert claim.status is S.UNDER_REVIEW
    assert _kinds(db_session, claim)[-1] == "SUPPLEMENT_RECEIVED"
    # a second send changes nothing
    actions.submit_supplement(db_session, claims, main, claim.id, remark="已补充")
    assert _kinds(db_session, claim).count("SUPPLEMENT_RECEIVED") == 1
